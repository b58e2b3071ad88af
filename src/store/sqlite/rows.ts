import type {
  EventType,
  JsonObject,
  MergeCause,
  MergeRecord,
  Profile,
  StoredEvent,
} from '../../domain/index.js';
import type { DeadLetter, DeadLetterInput, EventToAppend } from '../store.js';
import type { DeadLetterRow, EventRow, MergeRow, ProfileRow } from './schema.js';

/** Conversions between domain objects and rows, shared by the writer's statements and the reader's queries. */

/** What `events.body` holds: everything without a column of its own. Absent optional fields stay absent. */
interface EventBody {
  properties: JsonObject;
  traits: JsonObject;
  context: JsonObject;
  previousId?: string;
  groupId?: string;
  sentAt?: number;
  originalTimestamp?: number;
  violations?: string[];
}

type Param = string | number | null;

/** Parameters of the event insert, in column order (see writer.ts). */
export const eventParams = (e: EventToAppend): Param[] => {
  const body: EventBody = { properties: e.properties, traits: e.traits, context: e.context };
  if (e.previousId !== undefined) body.previousId = e.previousId;
  if (e.groupId !== undefined) body.groupId = e.groupId;
  if (e.sentAt !== undefined) body.sentAt = e.sentAt;
  if (e.originalTimestamp !== undefined) body.originalTimestamp = e.originalTimestamp;
  if (e.violations !== undefined) body.violations = e.violations;
  return [
    e.source,
    e.messageId,
    e.type,
    e.event ?? null,
    e.profileId,
    e.userId ?? null,
    e.anonymousId ?? null,
    e.timestamp,
    e.receivedAt,
    JSON.stringify(body),
  ];
};

export const toStoredEvent = (row: EventRow): StoredEvent => {
  const body = JSON.parse(row.body) as EventBody;
  const e: StoredEvent = {
    seq: row.seq,
    profileId: row.profile_id,
    messageId: row.message_id,
    source: row.source,
    type: row.type as EventType,
    timestamp: row.ts,
    receivedAt: row.received_at,
    properties: body.properties,
    traits: body.traits,
    context: body.context,
  };
  if (row.event !== null) e.event = row.event;
  if (row.user_id !== null) e.userId = row.user_id;
  if (row.anonymous_id !== null) e.anonymousId = row.anonymous_id;
  if (body.previousId !== undefined) e.previousId = body.previousId;
  if (body.groupId !== undefined) e.groupId = body.groupId;
  if (body.sentAt !== undefined) e.sentAt = body.sentAt;
  if (body.originalTimestamp !== undefined) e.originalTimestamp = body.originalTimestamp;
  if (body.violations !== undefined) e.violations = body.violations;
  return e;
};

/** Parameters of the profile upsert, in column order (see writer.ts). */
export const profileParams = (p: Profile): Param[] => [
  p.id,
  JSON.stringify(p.traits),
  JSON.stringify(p.traitTimes),
  JSON.stringify(p.computed),
  JSON.stringify(p.segments),
  p.firstSeen,
  p.lastSeen,
  p.createdAt,
  p.updatedAt,
  p.version,
];

export const toProfile = (row: ProfileRow): Profile => ({
  id: row.id,
  traits: JSON.parse(row.traits) as Profile['traits'],
  traitTimes: JSON.parse(row.trait_times) as Profile['traitTimes'],
  computed: JSON.parse(row.computed) as Profile['computed'],
  segments: JSON.parse(row.segments) as string[],
  firstSeen: row.first_seen,
  lastSeen: row.last_seen,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  version: row.version,
});

/** Parameters of the merge insert, in column order (see writer.ts). */
export const mergeParams = (m: MergeRecord): Param[] => [
  m.id,
  m.at,
  m.cause,
  m.intoProfileId,
  m.fromProfileId,
  m.outcome,
  m.messageId,
  m.source,
  m.reason,
  m.fromSnapshot === null ? null : JSON.stringify(m.fromSnapshot),
];

export const toMergeSummary = (row: Omit<MergeRow, 'from_snapshot'>): Omit<MergeRecord, 'fromSnapshot'> => ({
  id: row.id,
  at: row.at,
  cause: row.cause as MergeCause,
  intoProfileId: row.into_profile_id,
  fromProfileId: row.from_profile_id,
  outcome: row.outcome as MergeRecord['outcome'],
  messageId: row.message_id,
  source: row.source,
  reason: row.reason,
});

export const toMerge = (row: MergeRow): MergeRecord => ({
  ...toMergeSummary(row),
  fromSnapshot:
    row.from_snapshot === null
      ? null
      : (JSON.parse(row.from_snapshot) as NonNullable<MergeRecord['fromSnapshot']>),
});

/** Parameters of the dead-letter insert, in column order (see writer.ts). */
export const deadLetterParams = (d: DeadLetterInput): Param[] => [
  d.source,
  d.receivedAt,
  d.code,
  d.field ?? null,
  d.reason,
  d.payload,
  d.messageId ?? null,
];

export const toDeadLetter = (row: DeadLetterRow): DeadLetter => {
  const d: DeadLetter = {
    id: row.id,
    source: row.source,
    receivedAt: row.received_at,
    code: row.code,
    reason: row.reason,
    payload: row.payload,
  };
  if (row.field !== null) d.field = row.field;
  if (row.message_id !== null) d.messageId = row.message_id;
  return d;
};
