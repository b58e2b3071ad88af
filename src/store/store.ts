import type { IdentityKey, MergeRecord, PathwiseEvent, Profile, StoredEvent } from '../domain/index.js';

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

export type TimelineItem =
  | { kind: 'event'; at: number; seq: number; event: StoredEvent }
  | { kind: 'merge'; at: number; seq: number; merge: Omit<MergeRecord, 'fromSnapshot'> };

export interface Page<T> {
  items: T[];
  /** Opaque cursor for the next page; absent on the last page. */
  next?: string;
}

/**
 * Writes made inside one transaction. Every method sees the writes made before it in the same transaction.
 * Implementations: store/sqlite (embedded default), store/postgres (scale-out, later).
 */
export interface StoreWriter {
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
   * Folds profile `fromId` into `intoId`: its identities and events now belong to `intoId`, and `fromId`
   * is kept only as a pointer (so late lookups by its id still resolve). Does not touch `intoId`'s row.
   */
  foldProfile(fromId: string, intoId: string, at: number): Promise<void>;
  recordMerge(merge: MergeRecord): Promise<void>;
  addDeadLetter(entry: DeadLetterInput): Promise<void>;
}

export interface StoreReader {
  /** The live profile id for an identifier: a profile id (merged ones are followed), `kind:value`, or a bare userId. */
  resolveProfileId(identifier: string): Promise<string | undefined>;
  getProfile(id: string): Promise<Profile | undefined>;
  identitiesOf(profileId: string): Promise<IdentityKey[]>;
  /** Events, merges and segment changes of a profile, newest first. */
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
