import type BetterSqlite3 from 'better-sqlite3';
import type { ContactRecord } from '../store.js';
import type { ProfileRow } from './schema.js';

/**
 * The reads every decision makes (resolve the customer, load the profile, the contact history), as prepared
 * statements on the read connection: building and compiling them with kysely on each request cost more than
 * running them. The same SQL as the kysely versions they replace; the contract suite covers both paths.
 */
export class HotReads {
  private readonly s;

  constructor(db: BetterSqlite3.Database) {
    this.s = {
      mergedInto: db.prepare<[string], { merged_into: string | null }>(
        'SELECT merged_into FROM profiles WHERE id = ?',
      ),
      identity: db
        .prepare<[string, string], string>('SELECT profile_id FROM identities WHERE kind = ? AND value = ?')
        .pluck(),
      profile: db.prepare<[string], ProfileRow>(
        'SELECT * FROM profiles WHERE id = ? AND merged_into IS NULL',
      ),
      recent: db.prepare<
        [string, number],
        {
          id: string;
          action_id: string;
          channel: string;
          at: number;
          send_at: number | null;
          responded: number;
        }
      >(
        `SELECT d.id, d.action_id, d.channel, d.at, d.send_at,
           EXISTS (SELECT 1 FROM outcomes o WHERE o.decision_id = d.id AND o.kind IN ('goal', 'engagement')) AS responded
         FROM decisions d
         WHERE d.profile_id = ? AND d.at >= ? AND d.action_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM deliveries x WHERE x.id = d.id AND x.status IN ('failed', 'cancelled'))
         ORDER BY d.at DESC, d.seq DESC`,
      ),
    };
  }

  /** `merged_into` of a profile row: undefined when no row, null when it is live. */
  mergedInto(id: string): string | null | undefined {
    return this.s.mergedInto.get(id)?.merged_into;
  }

  identity(kind: string, value: string): string | undefined {
    return this.s.identity.get(kind, value);
  }

  profile(id: string): ProfileRow | undefined {
    return this.s.profile.get(id);
  }

  recentDecisions(profileId: string, since: number): ContactRecord[] {
    return this.s.recent.all(profileId, since).map((r) => ({
      decisionId: r.id,
      actionId: r.action_id,
      channel: r.channel as ContactRecord['channel'],
      at: r.at,
      sendAt: r.send_at,
      responded: r.responded === 1,
    }));
  }
}
