import type BetterSqlite3 from 'better-sqlite3';
import type { IdentityKey } from '../../domain/index.js';
import { tombstoneHash } from '../erasure.js';
import type { ProfileExport } from '../store.js';
import { toOutcome, toStoredDecision } from './decision-rows.js';
import { toDelivery, toTimer } from './outbox-rows.js';
import { findPerson, IN_LIST, preparePersonStatements } from './person.js';
import { toDeadLetter, toMerge, toProfile, toStoredEvent } from './rows.js';
import type {
  DeadLetterRow,
  DecisionRow,
  DeliveryRow,
  EventRow,
  MergeRow,
  OutcomeRow,
  ProfileRow,
  TimerRow,
} from './schema.js';

type Db = BetterSqlite3.Database;

const prepare = (db: Db) => ({
  ...preparePersonStatements(db),
  profile: db.prepare<[string], ProfileRow>('SELECT * FROM profiles WHERE id = ?'),
  events: db.prepare<[string], EventRow>(
    `SELECT * FROM events WHERE profile_id IN ${IN_LIST} ORDER BY ts, seq`,
  ),
  merges: db.prepare<[string, string], MergeRow>(
    `SELECT * FROM merges WHERE into_profile_id IN ${IN_LIST} OR from_profile_id IN ${IN_LIST} ORDER BY at, seq`,
  ),
  decisions: db.prepare<[string], DecisionRow>(
    `SELECT * FROM decisions WHERE profile_id IN ${IN_LIST} ORDER BY at, seq`,
  ),
  outcomes: db.prepare<[string], Omit<OutcomeRow, 'seq' | 'profile_id'>>(
    'SELECT decision_id, cause, at, kind, reward, value FROM outcomes WHERE decision_id = ? ORDER BY at, seq',
  ),
  deliveries: db.prepare<[string], DeliveryRow>(
    `SELECT * FROM deliveries WHERE profile_id IN ${IN_LIST} ORDER BY created_at, seq`,
  ),
  timers: db.prepare<[string], TimerRow>(
    `SELECT * FROM timers WHERE profile_id IN ${IN_LIST} ORDER BY due_at, seq`,
  ),
  deadLetters: db.prepare<[string], DeadLetterRow>(
    `SELECT * FROM dead_letters WHERE id IN ${IN_LIST} ORDER BY id`,
  ),
  salt: db.prepare<[], Buffer>('SELECT salt FROM privacy_salt WHERE id = 1').pluck(),
  hasTombstone: db.prepare<[string], number>('SELECT 1 FROM tombstones WHERE hash = ?').pluck(),
});

/**
 * The right of access on the read connection: prepared on first use (after migrations), run synchronously so
 * no commit of this process lands between the reads, and inside one read transaction against other processes.
 */
export class PrivacyReads {
  private s: ReturnType<typeof prepare> | undefined;

  constructor(private readonly db: Db) {}

  private get statements() {
    this.s ??= prepare(this.db);
    return this.s;
  }

  exportProfile(id: string): ProfileExport | undefined {
    const s = this.statements;
    // Nested in a transaction someone else holds on this connection, better-sqlite3 uses a savepoint.
    return this.db.transaction((): ProfileExport | undefined => {
      const person = findPerson(s, id);
      const row = person === undefined ? undefined : s.profile.get(person.profileId);
      if (person === undefined || row === undefined) return undefined;
      const ids = person.profileIdsJson;
      return {
        profile: toProfile(row),
        mergedProfileIds: person.profileIds.slice(1),
        identities: person.identities,
        merges: s.merges.all(ids, ids).map(toMerge),
        events: s.events.all(ids).map(toStoredEvent),
        decisions: s.decisions.all(ids).map((d) => toStoredDecision(d, s.outcomes.all(d.id).map(toOutcome))),
        deliveries: s.deliveries.all(ids).map(toDelivery),
        timers: s.timers.all(ids).map(toTimer),
        deadLetters: s.deadLetters.all(JSON.stringify(person.deadLetterIds)).map(toDeadLetter),
      };
    })();
  }

  isTombstoned(keys: IdentityKey[]): boolean {
    if (keys.length === 0) return false;
    const s = this.statements;
    const salt = s.salt.get();
    if (salt === undefined) return false;
    return keys.some((k) => s.hasTombstone.get(tombstoneHash(salt, k)) !== undefined);
  }
}
