/** The Segment spec call types Pathwise accepts (https://segment.com/docs/connections/spec/). */
export const EVENT_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/**
 * One event after validation and normalisation. Times are epoch milliseconds;
 * `timestamp` is already corrected for the sender's clock skew (see ingest/normalize.ts).
 */
export interface PathwiseEvent {
  messageId: string;
  /** Name of the source (write key owner) the event came from; `pathwise` for internal events. */
  source: string;
  type: EventType;
  /** `track`: the event name; `page`/`screen`: the page name. */
  event?: string;
  userId?: string;
  anonymousId?: string;
  /** `alias`: the identity being merged into `userId`. */
  previousId?: string;
  /** `group`: the account id. */
  groupId?: string;
  timestamp: number;
  originalTimestamp?: number;
  sentAt?: number;
  receivedAt: number;
  properties: JsonObject;
  traits: JsonObject;
  context: JsonObject;
}

/** An event as stored: with its place in the log and the profile it resolved to. */
export interface StoredEvent extends PathwiseEvent {
  seq: number;
  profileId: string;
  /** Tracking-plan violations when the plan is in `flag` mode. */
  violations?: string[];
}

/** Internal events Pathwise writes to the timeline itself. */
export const INTERNAL_SOURCE = 'pathwise';
export const SEGMENT_ENTERED = 'Segment Entered';
export const SEGMENT_EXITED = 'Segment Exited';
