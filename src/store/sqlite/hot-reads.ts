import type BetterSqlite3 from 'better-sqlite3';
import type { ContactRecord, StoredDecision } from '../store.js';
import { toOutcome, toStoredDecision } from './decision-rows.js';
import type { DecisionRow, OutcomeRow, ProfileRow } from './schema.js';

/**
 * The reads every decision makes (resolve the customer, load the profile, the contact history), as prepared
 * statements on the read connection: building and compiling them with kysely on each request cost more than
 * running them. The same SQL as the kysely versions they replace; the contract suite covers both paths.
 */
export class HotReads {
  private readonly s;
  /** getDecision's two reads in one read transaction (one snapshot), as the kysely version. */
  private readonly decisionTx: (id: string) => StoredDecision | undefined;

  constructor(db: BetterSqlite3.Database) {
    this.s = {
      decision: db.prepare<[string], DecisionRow>('SELECT * FROM decisions WHERE id = ?'),
      outcomes: db.prepare<
        [string],
        Pick<OutcomeRow, 'decision_id' | 'cause' | 'at' | 'kind' | 'reward' | 'value'>
      >(
        'SELECT decision_id, cause, at, kind, reward, value FROM outcomes WHERE decision_id = ? ORDER BY at, seq',
      ),
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
    this.decisionTx = db.transaction((id: string) => {
      const row = this.s.decision.get(id);
      if (row === undefined) return undefined;
      return toStoredDecision(row, this.s.outcomes.all(id).map(toOutcome));
    });
  }

  /** A decision with its outcomes (the dispatcher and the engine read one per message). */
  getDecision(id: string): StoredDecision | undefined {
    return this.decisionTx(id);
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
