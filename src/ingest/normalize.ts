import { EVENT_TYPES, type EventType, type JsonObject, type PathwiseEvent } from '../domain/index.js';
import { callSchemas, check, isJsonObject, kindOf } from './segment-schema.js';

export interface NormalizeContext {
  /** The source (write key owner) the call came in on. */
  source: string;
  /** Server time the request arrived, epoch ms: the clock every event time is corrected to. */
  receivedAt: number;
  /** Makes a unique id for calls without a messageId (prefixed `pw-` here). */
  newId: () => string;
  /**
   * Correct client clock skew from `sentAt` (default true). Off for bulk import: a historical event was sent
   * long before the import reads it, so `receivedAt - (sentAt - timestamp)` would move it to today.
   */
  correctSkew?: boolean;
  /** The batch envelope's `sentAt`, used for items without their own. */
  batchSentAt?: number;
  /** The batch envelope's `context`, merged under each item's own. */
  batchContext?: JsonObject;
}

/** `field` is a path relative to the event (`userId`, `properties`, `''` for the call as a whole). */
export type NormalizeResult =
  { ok: true; event: PathwiseEvent } | { ok: false; field: string; reason: string };

/** Every field any call type can carry after parsing (each schema's output is assignable to it). */
interface ParsedCall {
  userId?: string | undefined;
  anonymousId?: string | undefined;
  previousId?: string | undefined;
  groupId?: string | undefined;
  event?: string | undefined;
  name?: string | undefined;
  category?: string | undefined;
  messageId?: string | undefined;
  timestamp?: number | undefined;
  originalTimestamp?: number | undefined;
  sentAt?: number | undefined;
  properties?: JsonObject | undefined;
  traits?: JsonObject | undefined;
  context?: JsonObject | undefined;
}

const TYPE_LIST = EVENT_TYPES.join(', ');
const isEventType = (t: unknown): t is EventType => typeof t === 'string' && Object.hasOwn(callSchemas, t);

/**
 * Validates one Segment call and turns it into a PathwiseEvent. `type` comes from the route for single
 * calls (a `type` in the body is then ignored); for batch items it is undefined and the item's own `type`
 * decides. Pure: time and ids come from `ctx`.
 */
export const normalizeEvent = (
  raw: unknown,
  type: EventType | undefined,
  ctx: NormalizeContext,
): NormalizeResult => {
  if (!isJsonObject(raw)) {
    return { ok: false, field: '', reason: `must be a JSON object (one Segment call), got ${kindOf(raw)}` };
  }
  let t = type;
  if (t === undefined) {
    const own = raw.type;
    if (!isEventType(own)) {
      return {
        ok: false,
        field: 'type',
        reason:
          own === undefined
            ? `required on batch items: one of ${TYPE_LIST}`
            : `${JSON.stringify(own)} is not a call type; use one of ${TYPE_LIST}`,
      };
    }
    t = own;
  }

  const parsed = check(callSchemas[t], raw);
  if (!parsed.ok) return parsed;
  const call: ParsedCall = parsed.value;

  const event: PathwiseEvent = {
    messageId: call.messageId ?? `pw-${ctx.newId()}`,
    source: ctx.source,
    type: t,
    timestamp: ctx.receivedAt,
    receivedAt: ctx.receivedAt,
    properties: call.properties ?? {},
    traits: call.traits ?? {},
    context: mergeContext(ctx.batchContext, call.context),
  };
  setTimes(event, call, ctx);

  if (call.userId !== undefined) event.userId = call.userId;
  if (call.anonymousId !== undefined) event.anonymousId = call.anonymousId;
  switch (t) {
    case 'track':
      event.event = call.event as string;
      break;
    case 'page':
    case 'screen':
      if (call.name !== undefined) event.event = call.name;
      // PathwiseEvent has no category field; Segment's spec treats it as a page property.
      if (call.category !== undefined && !Object.hasOwn(event.properties, 'category')) {
        event.properties = { ...event.properties, category: call.category };
      }
      break;
    case 'group':
      event.groupId = call.groupId as string;
      break;
    case 'alias':
      event.previousId = call.previousId as string;
      break;
    case 'identify':
      break;
    default: {
      const never: never = t;
      throw new Error(`unhandled call type ${String(never)}`);
    }
  }
  return { ok: true, event };
};

/**
 * Clock-skew correction as Segment does it: with the client's `sentAt`, the event's time is the server's
 * receipt minus how long before sending the client says it happened, so a client clock that is off by
 * hours still yields a server-clock time. The client time used is `originalTimestamp` when given, as it
 * is on the same clock as `sentAt` (a replayed Segment `timestamp` is already corrected), else `timestamp`.
 */
const setTimes = (event: PathwiseEvent, call: ParsedCall, ctx: NormalizeContext): void => {
  const sentAt = call.sentAt ?? ctx.batchSentAt;
  const original = call.originalTimestamp ?? call.timestamp;
  if (sentAt !== undefined) event.sentAt = sentAt;
  if (sentAt !== undefined && ctx.correctSkew !== false) {
    if (original !== undefined) event.timestamp = ctx.receivedAt - (sentAt - original);
  } else if (original !== undefined) {
    event.timestamp = call.timestamp ?? original;
  }
  if (original !== undefined) event.originalTimestamp = original;
};

/**
 * The batch context goes under the item's own, key by key (the item's wins). Copied rather than shared,
 * so events of one batch never alias one context object.
 */
const mergeContext = (batch: JsonObject | undefined, own: JsonObject | undefined): JsonObject => {
  if (batch === undefined) return own ?? {};
  return own === undefined ? { ...batch } : { ...batch, ...own };
};
