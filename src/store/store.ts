import type {
  AuditEntry,
  Delivery,
  Json,
  Timer,
  Channel,
  Decision,
  DecisionMode,
  IdentityKey,
  MergeRecord,
  Outcome,
  PathwiseEvent,
  Profile,
  SparseFeatures,
  StoredEvent,
} from '../domain/index.js';

/** An event to append, once its profile is known. */
export interface EventToAppend extends PathwiseEvent {
  profileId: string;
  violations?: string[];
}

/** A rejected event, kept aside with the reason so nothing sent to Pathwise is silently dropped. */
export interface DeadLetterInput {
  source: string;
  receivedAt: number;
  /** Machine-readable error code (PW_ERR_…). */
  code: string;
  /** The offending field as a path (`batch[3].userId`), when known. */
  field?: string;
  reason: string;
  /** The raw payload as received (truncated by the caller if huge). */
  payload: string;
  messageId?: string;
}

export interface DeadLetter extends DeadLetterInput {
  id: number;
}

/** The final outcome a decision is resolved with: what the model learns from it. */
export interface FinalOutcome {
  /** The learning target, in [0, 1]. */
  reward: number;
  /** Business value reached. */
  value: number;
  at: number;
  kind: Outcome['kind'];
}

export interface Resolution extends FinalOutcome {
  /** Position in the reward log: strictly increasing in resolution order (model replay resumes after one). */
  resolvedSeq: number;
}

/** A decision with every outcome recorded for it (oldest first) and its final outcome, once resolved. */
export type StoredDecision = Decision & { outcomes: Outcome[]; resolution?: Resolution };

/** A decision as the timeline shows it: what was chosen and why in one sentence, not the full trace. */
export interface DecisionSummary extends Pick<
  Decision,
  'id' | 'actionId' | 'channel' | 'sendAt' | 'mode' | 'propensity' | 'holdout' | 'modelVersion'
> {
  /** `explanation.summary`. */
  summary: string;
  resolution?: Resolution;
}

/** A past contact with the customer, for the contact policy (frequency caps, fatigue). */
export interface ContactRecord {
  decisionId: string;
  actionId: string;
  channel: Channel;
  at: number;
  sendAt: number | null;
  /** Whether any goal or engagement outcome was recorded for it. */
  responded: boolean;
}

/** One entry of the reward log: a resolved decision as the learner (and offline evaluation) needs it. */
export interface ResolvedRecord {
  resolvedSeq: number;
  decisionId: string;
  /** Null: the decision was to do nothing. */
  actionId: string | null;
  features: SparseFeatures;
  reward: number;
  /** When the decision was resolved (not when it was made). */
  at: number;
  holdout: boolean;
  /** How the choice was made: a learner skips what no policy chose (holdout, kill switch). */
  mode: DecisionMode;
  /** Probability the logging policy had of this choice, in (0, 1]. */
  propensity: number;
}

/** A serialized model, with the reward-log position it includes: replay `resolvedSince(resolvedSeq)` on top. */
export interface ModelSnapshot {
  version: number;
  at: number;
  resolvedSeq: number;
  /** The serialized model (the learner's format; opaque to the store). */
  data: string;
}

export type TimelineItem =
  | { kind: 'event'; at: number; seq: number; event: StoredEvent }
  | { kind: 'merge'; at: number; seq: number; merge: Omit<MergeRecord, 'fromSnapshot'> }
  | { kind: 'decision'; at: number; seq: number; decision: DecisionSummary };

export interface Page<T> {
  items: T[];
  /** Opaque cursor for the next page; absent on the last page. */
  next?: string;
}

/** The decision log inside a write transaction: decisions, their outcomes, and model snapshots. */
export interface DecisionWriter {
  /** Logs a decision; a second decision with the same id is refused with PW_ERR_STORE_CONFLICT. */
  saveDecision(d: Decision): Promise<void>;
  getDecision(id: string): Promise<StoredDecision | undefined>;
  /**
   * Decisions of this profile made at or after `since`, resolved or not, oldest first (ties in save order):
   * reward attribution needs the resolved ones too, so a goal credited to the latest decision is not
   * credited again to an older one.
   */
  decisionsSince(profileId: string, since: number): Promise<Array<Decision & { resolved: boolean }>>;
  /**
   * Records an outcome of a decision (resolved or not). Idempotent on (decisionId, cause): returns false, and
   * changes nothing, if that pair was already recorded. Throws if the decision does not exist.
   */
  addOutcome(o: Outcome): Promise<boolean>;
  /**
   * Sets the decision's final outcome, once. Returns its `resolvedSeq` (strictly greater than every one
   * returned before), or undefined if the decision was already resolved or does not exist.
   */
  resolveDecision(decisionId: string, final: FinalOutcome): Promise<number | undefined>;
  /** Stores a model snapshot; only the few newest saved are kept. */
  saveModelSnapshot(s: ModelSnapshot): Promise<void>;
}

/** The outbox, durable timers, the audit log and run-time controls, inside a write transaction (orchestration). */
export interface OutboxWriter {
  /** Adds a delivery (id unique: a second one with the same id is PW_ERR_STORE_CONFLICT). */
  addDelivery(d: Delivery): Promise<void>;
  /**
   * Updates a delivery's mutable fields: only those the patch gives change. Throws PW_ERR_STORE_CONFLICT if no
   * delivery has this id.
   */
  updateDelivery(id: string, patch: DeliveryPatch): Promise<void>;
  getDelivery(id: string): Promise<Delivery | undefined>;
  /**
   * Cancels every pending delivery of a profile or of an action (status `cancelled`, the reason, updatedAt
   * `at`); returns the cancelled ones as they now are, in the order they were added. Others are untouched.
   */
  cancelDeliveries(
    filter: { profileId: string } | { actionId: string },
    reason: string,
    at: number,
  ): Promise<Delivery[]>;
  /** Adds a timer (id unique: a second one with the same id is PW_ERR_STORE_CONFLICT). */
  addTimer(t: Timer): Promise<void>;
  /** Deletes a timer; false if it was already gone (fired or cancelled elsewhere). */
  deleteTimer(id: string): Promise<boolean>;
  /** Appends to the audit log (id unique: a second entry with the same id is PW_ERR_STORE_CONFLICT). */
  addAudit(entry: AuditEntry): Promise<void>;
  /**
   * Persisted run-time controls (paused actions, kill switch) that outlive a restart: key → JSON value. Sets
   * or replaces the key's value; `null` deletes the key.
   */
  setControl(key: string, value: Json | null): Promise<void>;
}

/**
 * The fields `updateDelivery` may change. An absent (or undefined) field keeps its stored value, so an optional
 * field once set (sentAt, providerId, reason) is never cleared.
 */
export type DeliveryPatch = Partial<
  Pick<Delivery, 'status' | 'attempts' | 'nextAttemptAt' | 'sentAt' | 'providerId' | 'reason' | 'updatedAt'>
>;

/** Reads for the dispatcher and the audit API. */
export interface OutboxReader {
  /** Pending deliveries with nextAttemptAt ≤ now, earliest first. */
  dueDeliveries(now: number, limit: number): Promise<Delivery[]>;
  /** One delivery as committed (the dispatcher re-reads it just before sending). */
  getDelivery(id: string): Promise<Delivery | undefined>;
  /** Deliveries of a profile (any status), newest first by createdAt (timeline, tests). */
  deliveriesOf(profileId: string): Promise<Delivery[]>;
  /** Timers with dueAt ≤ now, earliest first (ties in insertion order). */
  dueTimers(now: number, limit: number): Promise<Timer[]>;
  /** Pending timers (all, or of one profile): for tests and the ops API. */
  countTimers(profileId?: string): Promise<number>;
  /** The audit log, newest first (by `at`, then by insertion), paged with an opaque cursor. */
  auditLog(opts: { cursor?: string; limit: number }): Promise<Page<AuditEntry>>;
  /** Every control set (see OutboxWriter.setControl), key → value. */
  controls(): Promise<Map<string, Json>>;
}

/** What one erasure removed, per kind of record (see PrivacyWriter.forget). */
export interface ErasureCounts {
  /** The live profile and every profile merged into it. */
  profiles: number;
  identities: number;
  /** Events of the profiles, segment changes and receipts included. */
  events: number;
  merges: number;
  segmentMemberships: number;
  decisions: number;
  outcomes: number;
  timers: number;
  deliveries: number;
  /** Rejected payloads that named one of the person's identifiers, profile ids or decision ids. */
  deadLetters: number;
  /** Tombstones written: one per identifier and per profile id (already present ones are not counted). */
  tombstones: number;
}

export interface ErasureReceipt {
  /** The live profile that was erased (the one the identifier resolved to). */
  profileId: string;
  /** The profile id's tombstone (its keyed hash): what the audit log keeps, so the erase leaves no id behind. */
  tombstone: string;
  erasedAt: number;
  removed: ErasureCounts;
}

/** Everything stored about one person, as `PrivacyReader.exportProfile` gathers it. */
export interface ProfileExport {
  profile: Profile;
  /** Profiles merged into it over time (their ids still resolve to it). */
  mergedProfileIds: string[];
  identities: IdentityKey[];
  merges: MergeRecord[];
  /** Oldest first (by time, then by log position). */
  events: StoredEvent[];
  /** Oldest first, each with its explanation and outcomes. */
  decisions: StoredDecision[];
  deliveries: Delivery[];
  timers: Timer[];
  /** Rejected payloads that name the person (same rule as the erasure's). */
  deadLetters: DeadLetter[];
}

/** The right to erasure and access, inside a write transaction. */
export interface PrivacyWriter {
  /**
   * Erases a person: the live profile `profileId` leads to (merge pointers are followed) and every profile
   * merged into it, their identities, events, merges, segment memberships, decisions and their outcomes,
   * deliveries, timers, and the dead letters that name any of their identifiers, profile ids or decision ids.
   * Keeps only a tombstone: a keyed hash of each identifier and profile id. Undefined when there is no such
   * live profile (unknown, or erased before).
   */
  forget(profileId: string, at: number): Promise<ErasureReceipt | undefined>;
  /** Whether any of these identities (or `profileId:<id>` keys) was erased; sees this transaction's erasures. */
  isTombstoned(keys: IdentityKey[]): Promise<boolean>;
}

/** Reads for the right of access (committed data only). */
export interface PrivacyReader {
  /** Everything held about the person `profileId` leads to; undefined when there is no such live profile. */
  exportProfile(profileId: string): Promise<ProfileExport | undefined>;
  isTombstoned(keys: IdentityKey[]): Promise<boolean>;
}

/**
 * Writes made inside one transaction. Every method sees the writes made before it in the same transaction.
 * Implementations: store/sqlite (embedded default), store/postgres (scale-out, later).
 */
export interface StoreWriter extends DecisionWriter, OutboxWriter, PrivacyWriter {
  /** Whether (source, messageId) was already stored — across restarts, and earlier in this transaction. */
  hasMessage(source: string, messageId: string): Promise<boolean>;
  /** Appends to the event log; returns its sequence number (increasing in append order). */
  appendEvent(event: EventToAppend): Promise<number>;
  /** Current profile ids of the given identities (keyed by `kind:value`); unknown ones are absent. */
  findProfileIds(keys: IdentityKey[]): Promise<Map<string, string>>;
  /** Points identities at a profile (creating or re-pointing the links). */
  linkIdentities(profileId: string, keys: IdentityKey[], at: number): Promise<void>;
  identitiesOf(profileId: string): Promise<IdentityKey[]>;
  getProfile(id: string): Promise<Profile | undefined>;
  /** Inserts or replaces the profile; also keeps the segment-membership index in step with `segments`. */
  saveProfile(profile: Profile): Promise<void>;
  /**
   * Folds profile `fromId` into `intoId`: its identities, events, decisions, outcomes, deliveries (whatever
   * their status) and timers now belong to `intoId`, and `fromId` is kept only as a pointer (so late lookups by
   * its id still resolve). Does not touch `intoId`'s row.
   */
  foldProfile(fromId: string, intoId: string, at: number): Promise<void>;
  recordMerge(merge: MergeRecord): Promise<void>;
  addDeadLetter(entry: DeadLetterInput): Promise<void>;
}

/** Reads of the decision log (committed data only). */
export interface DecisionReader {
  getDecision(id: string): Promise<StoredDecision | undefined>;
  /**
   * Contacts of the profile made at or after `since`, newest first: decisions that chose an action, except
   * those whose message failed or was cancelled (nothing reached the customer, so caps do not count them).
   */
  recentDecisions(profileId: string, since: number): Promise<ContactRecord[]>;
  /** Time of the profile's latest goal outcome (for the conversion cool-down); undefined if none. */
  lastGoalAt(profileId: string): Promise<number | undefined>;
  /** Number of decisions per chosen action made at or after `since` (budgets); actions with none are absent. */
  actionSendCounts(since: number): Promise<Map<string, number>>;
  /** Unresolved decisions whose attribution window ended at or before `now`, earliest deadline first. */
  expiredDecisions(now: number, limit: number): Promise<Decision[]>;
  /** The reward log after position `afterSeq` (0: from the start), in resolvedSeq order, at most `limit`. */
  resolvedSince(afterSeq: number, limit: number): Promise<ResolvedRecord[]>;
  /** The snapshot saved last, if any. */
  latestModelSnapshot(): Promise<ModelSnapshot | undefined>;
}

export interface StoreReader extends DecisionReader, OutboxReader, PrivacyReader {
  /** The live profile id for an identifier: a profile id (merged ones are followed), `kind:value`, or a bare userId. */
  resolveProfileId(identifier: string): Promise<string | undefined>;
  getProfile(id: string): Promise<Profile | undefined>;
  identitiesOf(profileId: string): Promise<IdentityKey[]>;
  /** Events (segment changes included), merges and decisions of a profile, newest first. */
  timeline(profileId: string, opts: { cursor?: string; limit: number }): Promise<Page<TimelineItem>>;
  /** Profile ids currently in a segment, in id order. */
  profilesInSegment(segment: string, opts: { cursor?: string; limit: number }): Promise<Page<string>>;
  /** Ids of all live (not merged) profiles, in id order: for sweeps over every customer. */
  profileIds(opts: { cursor?: string; limit: number }): Promise<Page<string>>;
  deadLetters(opts: { cursor?: string; limit: number; source?: string }): Promise<Page<DeadLetter>>;
  merges(profileId: string): Promise<MergeRecord[]>;
  /** Count of rows in the event log (for health and benchmarks). */
  countEvents(): Promise<number>;
}

/** The one storage port. Writes are serialized: `write` callbacks never run concurrently. */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Creates or upgrades the schema; safe to run on every start. */
  migrate(): Promise<void>;
  /** Runs `fn` in one transaction; on throw everything it wrote is rolled back. Durable once the promise resolves. */
  write<T>(fn: (w: StoreWriter) => Promise<T>): Promise<T>;
  readonly read: StoreReader;
  close(): Promise<void>;
}
