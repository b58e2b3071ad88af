import type BetterSqlite3 from 'better-sqlite3';
import type {
  AuditEntry,
  Decision,
  Delivery,
  IdentityKey,
  Json,
  MergeRecord,
  Outcome,
  Profile,
  Timer,
} from '../../domain/index.js';
import type {
  DeadLetterInput,
  DeliveryPatch,
  ErasureReceipt,
  EventToAppend,
  FinalOutcome,
  ModelSnapshot,
  StoredDecision,
  StoreWriter,
} from '../store.js';
import * as decisions from './decision-writer.js';
import * as outbox from './outbox-writer.js';
import * as privacy from './privacy-writer.js';
import type { ProfileRow } from './schema.js';
import { deadLetterParams, eventParams, mergeParams, profileParams, toProfile } from './rows.js';
import type { WriteCache } from './write-cache.js';
import { PathwiseError } from '../../errors.js';
import { messageHash } from './message-hash.js';

type Param = string | number | null;
type Db = BetterSqlite3.Database;

const PROFILE_COLUMNS =
  'traits, trait_times, computed, segments, first_seen, last_seen, created_at, updated_at, version';

/**
 * The write hot path runs a handful of statements per event, tens of thousands of times a second: they are
 * prepared once here and run synchronously, since building and compiling a kysely query per call costs more.
 */
export const prepareStatements = (db: Db) => ({
  begin: db.prepare('BEGIN IMMEDIATE'),
  // Changes whenever another connection commits to the file; our own commits leave it as it is.
  dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
  commit: db.prepare('COMMIT'),
  rollback: db.prepare('ROLLBACK'),
  hasMessage: db.prepare<[number], { source: string; message_id: string }>(
    'SELECT source, message_id FROM events WHERE msg_hash = ?',
  ),
  insertEvent: db.prepare<Param[]>(
    `INSERT INTO events (msg_hash, source, message_id, type, event, profile_id, user_id, anonymous_id, ts, received_at, body)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ),
  findIdentity: db
    .prepare<[string, string], string>('SELECT profile_id FROM identities WHERE kind = ? AND value = ?')
    .pluck(),
  addIdentityKind: db.prepare<[string]>('INSERT OR IGNORE INTO identity_kinds (kind) VALUES (?)'),
  linkIdentity: db.prepare<[string, string, string, number]>(
    `INSERT INTO identities (kind, value, profile_id, created_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (kind, value) DO UPDATE SET profile_id = excluded.profile_id`,
  ),
  identitiesOf: db.prepare<[string], IdentityKey>(
    'SELECT kind, value FROM identities WHERE profile_id = ? ORDER BY created_at, kind, value',
  ),
  getProfile: db.prepare<[string], ProfileRow>('SELECT * FROM profiles WHERE id = ? AND merged_into IS NULL'),
  profileState: db.prepare<[string], Pick<ProfileRow, 'merged_into' | 'segments'>>(
    'SELECT merged_into, segments FROM profiles WHERE id = ?',
  ),
  upsertProfile: db.prepare<Param[]>(
    `INSERT INTO profiles (id, ${PROFILE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET ${PROFILE_COLUMNS.split(', ')
       .map((c) => `${c} = excluded.${c}`)
       .join(', ')}`,
  ),
  addMember: db.prepare<[string, string]>(
    'INSERT OR IGNORE INTO profile_segments (segment, profile_id) VALUES (?, ?)',
  ),
  removeMember: db.prepare<[string, string]>(
    'DELETE FROM profile_segments WHERE segment = ? AND profile_id = ?',
  ),
  moveIdentities: db.prepare<[string, string]>('UPDATE identities SET profile_id = ? WHERE profile_id = ?'),
  moveEvents: db.prepare<[string, string]>('UPDATE events SET profile_id = ? WHERE profile_id = ?'),
  dropMemberships: db.prepare<[string]>('DELETE FROM profile_segments WHERE profile_id = ?'),
  // Path compression: profiles folded into `from` earlier now point straight at the survivor.
  repointMerged: db.prepare<[string, string]>('UPDATE profiles SET merged_into = ? WHERE merged_into = ?'),
  // A folded profile may never have been saved (linked identities only): then its pointer row is created.
  markMerged: db.prepare<[string, string, number, number, number, number]>(
    `INSERT INTO profiles (id, merged_into, ${PROFILE_COLUMNS}) VALUES (?, ?, '{}', '{}', '{}', '[]', ?, ?, ?, ?, 0)
     ON CONFLICT (id) DO UPDATE SET merged_into = excluded.merged_into, segments = '[]', updated_at = excluded.updated_at`,
  ),
  insertMerge: db.prepare<Param[]>(
    `INSERT INTO merges (id, at, cause, into_profile_id, from_profile_id, outcome, message_id, source, reason, from_snapshot)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ),
  insertDeadLetter: db.prepare<Param[]>(
    `INSERT INTO dead_letters (source, received_at, code, field, reason, payload, message_id) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ),
  ...decisions.prepareDecisionStatements(db),
  ...outbox.prepareOutboxStatements(db),
  ...privacy.preparePrivacyStatements(db),
});

export type Statements = ReturnType<typeof prepareStatements>;

/** The writer handed to one `write()` callback; it refuses to work once that transaction has ended. */
export class SqliteWriter implements StoreWriter {
  private open = true;
  /** Messages hasMessage found absent in this transaction and not appended since. */
  private readonly checkedNew = new Set<string>();

  constructor(
    private readonly statements: Statements,
    private readonly cache: WriteCache,
  ) {}

  end(): void {
    this.open = false;
  }

  private get s(): Statements {
    // A writer kept past its callback would write outside any transaction (or into the next caller's).
    if (!this.open)
      throw new Error(
        'StoreWriter used after its write() transaction ended: use it only inside the callback',
      );
    return this.statements;
  }

  async hasMessage(source: string, messageId: string): Promise<boolean> {
    if (this.isStored(source, messageId, messageHash(source, messageId))) return true;
    this.checkedNew.add(`${source}\u0000${messageId}`);
    return false;
  }

  /** The dedup index holds hashes, which may collide: a hit counts only if the stored strings match. */
  private isStored(source: string, messageId: string, hash: number): boolean {
    for (const row of this.s.hasMessage.iterate(hash)) {
      if (row.source === source && row.message_id === messageId) return true;
    }
    return false;
  }

  async appendEvent(event: EventToAppend): Promise<number> {
    // The dedup index is not UNIQUE (hashes may collide), so the log itself refuses a second copy here.
    // The usual caller has just asked hasMessage in this transaction: no need to look twice.
    const hash = messageHash(event.source, event.messageId);
    const checked = this.checkedNew.delete(`${event.source}\u0000${event.messageId}`);
    if (!checked && this.isStored(event.source, event.messageId, hash)) {
      throw new PathwiseError(
        'PW_ERR_STORE_CONFLICT',
        `event ${event.source}/${event.messageId} is already stored`,
      );
    }
    return Number(this.s.insertEvent.run(hash, ...eventParams(event)).lastInsertRowid);
  }

  async findProfileIds(keys: IdentityKey[]): Promise<Map<string, string>> {
    const s = this.s;
    const found = new Map<string, string>();
    for (const k of keys) {
      const key = `${k.kind}:${k.value}`;
      let id = this.cache.identity(key);
      if (id === undefined) {
        id = s.findIdentity.get(k.kind, k.value);
        if (id !== undefined) this.cache.setIdentity(key, id);
      }
      if (id !== undefined) found.set(key, id);
    }
    return found;
  }

  async linkIdentities(profileId: string, keys: IdentityKey[], at: number): Promise<void> {
    const s = this.s;
    for (const k of keys) {
      if (!this.cache.knowsKind(k.kind)) {
        s.addIdentityKind.run(k.kind);
        this.cache.addKind(k.kind);
      }
      s.linkIdentity.run(k.kind, k.value, profileId, at);
      this.cache.setIdentity(`${k.kind}:${k.value}`, profileId);
    }
  }

  async identitiesOf(profileId: string): Promise<IdentityKey[]> {
    return this.s.identitiesOf.all(profileId);
  }

  async getProfile(id: string): Promise<Profile | undefined> {
    let row = this.cache.profile(id);
    if (row === undefined) {
      row = this.s.getProfile.get(id);
      if (row === undefined) return undefined;
      this.cache.setProfile(row);
    }
    return toProfile(row);
  }

  async saveProfile(profile: Profile): Promise<void> {
    const s = this.s;
    const old = this.cache.profile(profile.id) ?? s.profileState.get(profile.id);
    if (old?.merged_into != null) {
      throw new Error(
        `profile ${profile.id} was merged into ${old.merged_into}: save the surviving profile instead`,
      );
    }
    const params = profileParams(profile);
    s.upsertProfile.run(...params);
    this.cache.setProfile(toRow(profile, params));
    // Most saves keep the same segments: compare the stored JSON before diffing.
    const segmentsJson = params[4];
    if (old !== undefined && old.segments === segmentsJson) return;
    const before = new Set(old === undefined ? [] : (JSON.parse(old.segments) as string[]));
    const after = new Set(profile.segments);
    for (const seg of before) if (!after.has(seg)) s.removeMember.run(seg, profile.id);
    for (const seg of after) if (!before.has(seg)) s.addMember.run(seg, profile.id);
  }

  async foldProfile(fromId: string, intoId: string, at: number): Promise<void> {
    const s = this.s;
    if (fromId === intoId) throw new Error(`cannot fold profile ${fromId} into itself`);
    const into = s.profileState.get(intoId);
    if (into?.merged_into != null) {
      throw new Error(
        `cannot fold into ${intoId}: it was merged into ${into.merged_into}; fold into the live profile`,
      );
    }
    const from = s.profileState.get(fromId);
    if (from?.merged_into != null)
      throw new Error(`profile ${fromId} was already merged into ${from.merged_into}`);
    const moved = s.identitiesOf.all(fromId);
    s.moveIdentities.run(intoId, fromId);
    s.moveEvents.run(intoId, fromId);
    decisions.moveDecisions(s, fromId, intoId);
    outbox.moveOutbox(s, fromId, intoId);
    s.dropMemberships.run(fromId);
    s.repointMerged.run(intoId, fromId);
    s.markMerged.run(fromId, intoId, at, at, at, at);
    this.cache.dropProfile(fromId);
    // Merges are frequent (every visitor who logs in): re-point the moved links rather than forget them all.
    for (const k of moved) this.cache.setIdentity(`${k.kind}:${k.value}`, intoId);
  }

  async recordMerge(merge: MergeRecord): Promise<void> {
    this.s.insertMerge.run(...mergeParams(merge));
  }

  async addDeadLetter(entry: DeadLetterInput): Promise<void> {
    this.s.insertDeadLetter.run(...deadLetterParams(entry));
  }

  async saveDecision(d: Decision): Promise<void> {
    decisions.saveDecision(this.s, d);
  }

  async getDecision(id: string): Promise<StoredDecision | undefined> {
    return decisions.getDecision(this.s, id);
  }

  async decisionsSince(profileId: string, since: number): Promise<Array<Decision & { resolved: boolean }>> {
    return decisions.decisionsSince(this.s, profileId, since);
  }

  async addOutcome(o: Outcome): Promise<boolean> {
    return decisions.addOutcome(this.s, o);
  }

  async resolveDecision(decisionId: string, final: FinalOutcome): Promise<number | undefined> {
    return decisions.resolveDecision(this.s, decisionId, final);
  }

  async saveModelSnapshot(snapshot: ModelSnapshot): Promise<void> {
    decisions.saveModelSnapshot(this.s, snapshot);
  }

  async addDelivery(d: Delivery): Promise<void> {
    outbox.addDelivery(this.s, d);
  }

  async updateDelivery(id: string, patch: DeliveryPatch): Promise<void> {
    outbox.updateDelivery(this.s, id, patch);
  }

  async getDelivery(id: string): Promise<Delivery | undefined> {
    return outbox.getDelivery(this.s, id);
  }

  async cancelDeliveries(
    filter: { profileId: string } | { actionId: string },
    reason: string,
    at: number,
  ): Promise<Delivery[]> {
    return outbox.cancelDeliveries(this.s, filter, reason, at);
  }

  async addTimer(t: Timer): Promise<void> {
    outbox.addTimer(this.s, t);
  }

  async deleteTimer(id: string): Promise<boolean> {
    return outbox.deleteTimer(this.s, id);
  }

  async addAudit(entry: AuditEntry): Promise<void> {
    outbox.addAudit(this.s, entry);
  }

  async setControl(key: string, value: Json | null): Promise<void> {
    outbox.setControl(this.s, key, value);
  }

  async forget(profileId: string, at: number): Promise<ErasureReceipt | undefined> {
    return privacy.forget(this.s, this.cache, profileId, at);
  }

  async isTombstoned(keys: IdentityKey[]): Promise<boolean> {
    return privacy.isTombstoned(this.s, this.cache, keys);
  }
}

/** The row as the upsert just stored it, for the cache (same JSON text, so readers parse a fresh copy). */
const toRow = (p: Profile, params: Param[]): ProfileRow => ({
  id: p.id,
  merged_into: null,
  traits: params[1] as string,
  trait_times: params[2] as string,
  computed: params[3] as string,
  segments: params[4] as string,
  first_seen: p.firstSeen,
  last_seen: p.lastSeen,
  created_at: p.createdAt,
  updated_at: p.updatedAt,
  version: p.version,
});
