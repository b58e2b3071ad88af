import type { Generated, Selectable } from 'kysely';

/** Table shapes as kysely sees them. Times are epoch ms; JSON columns hold text. */
export interface EventsTable {
  seq: Generated<number>;
  source: string;
  message_id: string;
  /** messageHash(source, message_id): the dedup index key. */
  msg_hash: number;
  type: string;
  event: string | null;
  profile_id: string;
  user_id: string | null;
  anonymous_id: string | null;
  ts: number;
  received_at: number;
  /** JSON: properties, traits, context and the optional fields without a column of their own. */
  body: string;
}

export interface IdentityKindsTable {
  kind: string;
}

export interface IdentitiesTable {
  kind: string;
  value: string;
  profile_id: string;
  created_at: number;
}

export interface ProfilesTable {
  id: string;
  /** Set once the profile was folded into another: the row is then only a pointer. */
  merged_into: string | null;
  traits: string;
  trait_times: string;
  computed: string;
  segments: string;
  first_seen: number;
  last_seen: number;
  created_at: number;
  updated_at: number;
  version: number;
}

export interface ProfileSegmentsTable {
  segment: string;
  profile_id: string;
}

export interface MergesTable {
  /** Stable position for timeline ordering and cursors (the text id gives none). */
  seq: Generated<number>;
  id: string;
  at: number;
  cause: string;
  into_profile_id: string;
  from_profile_id: string;
  outcome: string;
  message_id: string;
  source: string;
  reason: string;
  from_snapshot: string | null;
}

export interface DeadLettersTable {
  id: Generated<number>;
  source: string;
  received_at: number;
  code: string;
  field: string | null;
  reason: string;
  payload: string;
  message_id: string | null;
}

/** The decision log. JSON columns hold compact JSON; features are `{"idx":[…],"val":[…]}`. */
export interface DecisionsTable {
  /** Stable position for timeline ordering and cursors (the text id gives none). */
  seq: Generated<number>;
  id: string;
  profile_id: string;
  at: number;
  action_id: string | null;
  channel: string | null;
  send_at: number | null;
  propensity: number;
  mode: string;
  /** 0 or 1. */
  holdout: number;
  model_version: number;
  attribution_ends_at: number;
  signal: string;
  features: string;
  explanation: string;
  /** The final outcome: all null until resolved, all set after. */
  resolved_seq: number | null;
  resolved_reward: number | null;
  resolved_value: number | null;
  resolved_at: number | null;
  resolved_kind: string | null;
}

export interface OutcomesTable {
  /** Insertion order, to list outcomes of equal time in the order they were recorded. */
  seq: Generated<number>;
  decision_id: string;
  cause: string;
  /** The decision's profile, copied here so the latest goal of a profile is one index lookup. */
  profile_id: string;
  at: number;
  kind: string;
  reward: number;
  value: number;
}

export interface ModelSnapshotsTable {
  /** Save order: the newest snapshot is the one saved last. */
  seq: Generated<number>;
  version: number;
  at: number;
  resolved_seq: number;
  data: string;
}

/** Named counters that must never go back, even when the rows that used them are deleted. */
export interface CountersTable {
  name: string;
  value: number;
}

/** The outbox: one row per delivery (its id is the decision id). */
export interface DeliveriesTable {
  /** Insertion order, to break ties between deliveries of equal time. */
  seq: Generated<number>;
  id: string;
  decision_id: string;
  profile_id: string;
  action_id: string;
  channel: string;
  idempotency_key: string;
  send_at: number;
  /** 'pending' | 'sent' | 'failed' | 'cancelled'. */
  status: string;
  attempts: number;
  next_attempt_at: number;
  created_at: number;
  updated_at: number;
  sent_at: number | null;
  provider_id: string | null;
  reason: string | null;
}

/** Durable timers: a row lives from addTimer until deleteTimer (fired or cancelled). */
export interface TimersTable {
  /** Insertion order: timers due at the same time fire in the order they were added. */
  seq: Generated<number>;
  id: string;
  kind: string;
  profile_id: string;
  due_at: number;
  /** JSON object. */
  payload: string;
}

export interface AuditLogTable {
  /** Insertion order, to page entries of equal time. */
  seq: Generated<number>;
  id: string;
  at: number;
  actor: string;
  change: string;
  target: string;
  /** JSON object. */
  detail: string;
}

/** Run-time controls that outlive a restart. */
export interface ControlsTable {
  key: string;
  /** JSON (never `null`: setting a control to null deletes its row). */
  value: string;
}

/** What an erasure keeps: a keyed hash of each identifier (see migration 0004_privacy). */
export interface TombstonesTable {
  /** Hex HMAC-SHA256 of `kind:value`, keyed with `privacy_salt.salt`. */
  hash: string;
  /** The identifier's kind (`userId`, `email`, `profileId`, …): counts only, never the value. */
  kind: string;
  erased_at: number;
}

export interface PrivacySaltTable {
  /** Always 1: one salt per database. */
  id: number;
  salt: Buffer;
}

export interface Database {
  identity_kinds: IdentityKindsTable;
  events: EventsTable;
  identities: IdentitiesTable;
  profiles: ProfilesTable;
  profile_segments: ProfileSegmentsTable;
  merges: MergesTable;
  dead_letters: DeadLettersTable;
  decisions: DecisionsTable;
  outcomes: OutcomesTable;
  model_snapshots: ModelSnapshotsTable;
  counters: CountersTable;
  deliveries: DeliveriesTable;
  timers: TimersTable;
  audit_log: AuditLogTable;
  controls: ControlsTable;
  tombstones: TombstonesTable;
  privacy_salt: PrivacySaltTable;
}

export type EventRow = Selectable<EventsTable>;
export type ProfileRow = Selectable<ProfilesTable>;
export type MergeRow = Selectable<MergesTable>;
export type DeadLetterRow = Selectable<DeadLettersTable>;
export type DecisionRow = Selectable<DecisionsTable>;
export type OutcomeRow = Selectable<OutcomesTable>;
export type DeliveryRow = Selectable<DeliveriesTable>;
export type TimerRow = Selectable<TimersTable>;
export type AuditRow = Selectable<AuditLogTable>;
