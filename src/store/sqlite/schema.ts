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

export interface Database {
  identity_kinds: IdentityKindsTable;
  events: EventsTable;
  identities: IdentitiesTable;
  profiles: ProfilesTable;
  profile_segments: ProfileSegmentsTable;
  merges: MergesTable;
  dead_letters: DeadLettersTable;
}

export type EventRow = Selectable<EventsTable>;
export type ProfileRow = Selectable<ProfilesTable>;
export type MergeRow = Selectable<MergesTable>;
export type DeadLetterRow = Selectable<DeadLettersTable>;
