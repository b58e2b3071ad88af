import { z } from 'zod';
import type { EventType, JsonObject } from '../domain/index.js';

/**
 * zod schemas for the Segment HTTP tracking API calls
 * (https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/).
 *
 * Every message is written by a person fixing their client, so each field carries its own message
 * ("how to fix it"); zod's defaults never reach the caller. Schemas are built once, at module load.
 * Unknown top-level keys (`_metadata`, `version`, `channel`, …) are stripped, not rejected.
 * `properties`, `traits` and `context` are checked to be objects but not walked: they come from
 * JSON.parse, so their contents are JSON already, and walking them would cost O(size) per event.
 */

/** Past these lengths a value is a client bug (an id or a serialised object sent as the name). */
export const MAX_EVENT_NAME = 200;
export const MAX_MESSAGE_ID = 100;

/** A value's JSON kind for messages (`null` and `array` told apart from `object`). */
export const kindOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

export const isJsonObject = (v: unknown): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Echo a bad value back in a message without letting a huge one bloat the error. */
const shown = (v: string): string => JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The two-digit number at `i`, or -1. */
const two = (s: string, i: number): number => {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
};

/**
 * Epoch ms of an ISO-8601 date or date-time (`2024-05-01`, `2024-05-01T12:00`, `…:00.123456+02:00`, `…Z`;
 * RFC 3339 and the common extended forms), or undefined when it is not one. Digits beyond milliseconds
 * are truncated; a time without an offset is UTC. Hand-parsed rather than Date.parse, which also accepts
 * "May 1, 2024", reads an offset-less time in the host's time zone, and rolls 2023-02-31 over to March;
 * and rather than a regex, which cost 3/4 of a whole valid call's validation time.
 */
export const parseIsoTime = (s: string): number | undefined => {
  const len = s.length;
  const y1 = two(s, 0);
  const y2 = two(s, 2);
  const month = two(s, 5);
  const day = two(s, 8);
  if (len < 10 || y1 < 0 || y2 < 0 || s[4] !== '-' || s[7] !== '-' || month < 1 || month > 12 || day < 1) {
    return undefined;
  }
  const year = y1 * 100 + y2;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && !leap ? 28 : (DAYS_IN_MONTH[month - 1] as number))) return undefined;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let ms = 0;
  let offset = 0;
  if (len > 10) {
    const sep = s[10];
    hour = two(s, 11);
    minute = two(s, 14);
    const sepOk = sep === 'T' || sep === 't' || sep === ' ';
    if (!sepOk || hour < 0 || hour > 23 || s[13] !== ':' || minute < 0 || minute > 59) return undefined;
    let i = 16;
    if (s[i] === ':') {
      second = two(s, i + 1);
      // 60 is a leap second; Date.UTC carries it into the next minute.
      if (second < 0 || second > 60) return undefined;
      i += 3;
      if (s[i] === '.' || s[i] === ',') {
        const from = ++i;
        for (let c = s.charCodeAt(i) - 48; c >= 0 && c <= 9; c = s.charCodeAt(++i) - 48) {
          if (i - from < 3) ms = ms * 10 + c;
        }
        if (i === from) return undefined;
        for (let k = i - from; k < 3; k++) ms *= 10;
      }
    }
    const z = s[i];
    if (z === 'Z' || z === 'z') {
      i += 1;
    } else if (z === '+' || z === '-') {
      const oh = two(s, i + 1);
      i += 3;
      let om = 0;
      if (i < len) {
        if (s[i] === ':') i += 1;
        om = two(s, i);
        i += 2;
      }
      if (oh < 0 || oh > 23 || om < 0 || om > 59) return undefined;
      offset = (z === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
    }
    if (i !== len) return undefined;
  }
  // Date.UTC reads years 0–99 as 1900–1999: compute 400 years later (same calendar) and shift back.
  const t =
    year < 100
      ? Date.UTC(year + 400, month - 1, day, hour, minute, second, ms) - 12_622_780_800_000
      : Date.UTC(year, month - 1, day, hour, minute, second, ms);
  return t - offset;
};

/** An optional ISO-8601 timestamp field, output as epoch ms. */
const isoTime = z.unknown().transform((v, ctx): number | undefined => {
  if (v === undefined) return undefined;
  if (typeof v === 'string') {
    const t = parseIsoTime(v);
    if (t !== undefined) return t;
    ctx.addIssue({
      code: 'custom',
      message: `${shown(v)} is not an ISO-8601 date; send e.g. 2024-05-01T12:00:00.000Z`,
    });
    return z.NEVER;
  }
  ctx.addIssue({
    code: 'custom',
    message: `must be an ISO-8601 date string such as 2024-05-01T12:00:00.000Z, got ${kindOf(v)}`,
  });
  return z.NEVER;
});

/**
 * An identifier: a string, or a number turned into one (clients send numeric database ids).
 * `''` and `null` count as absent: clients send them for "not known yet".
 */
const identifier = z.unknown().transform((v, ctx): string | undefined => {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  ctx.addIssue({ code: 'custom', message: `must be a string or a number, got ${kindOf(v)}` });
  return z.NEVER;
});

/** An optional free-text field (page name, category); empty counts as absent. */
const optionalText = z.unknown().transform((v, ctx): string | undefined => {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string') return v;
  ctx.addIssue({ code: 'custom', message: `must be a string, got ${kindOf(v)}` });
  return z.NEVER;
});

const messageId = z.unknown().transform((v, ctx): string | undefined => {
  // An empty id would make every such event a duplicate of the first: treat it as absent.
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string' && v.length <= MAX_MESSAGE_ID) return v;
  ctx.addIssue({
    code: 'custom',
    message:
      typeof v === 'string'
        ? `must be at most ${MAX_MESSAGE_ID} characters (got ${v.length}); send a UUID or leave it out`
        : `must be a string, got ${kindOf(v)}; send a UUID or leave it out`,
  });
  return z.NEVER;
});

const jsonObject = z.unknown().transform((v, ctx): JsonObject | undefined => {
  if (v === undefined) return undefined;
  if (isJsonObject(v)) return v;
  ctx.addIssue({
    code: 'custom',
    message: `must be an object ({...}), got ${kindOf(v)}; leave it out if empty`,
  });
  return z.NEVER;
});

const eventName = z.unknown().transform((v, ctx): string => {
  if (typeof v === 'string' && v.length > 0 && v.length <= MAX_EVENT_NAME) return v;
  ctx.addIssue({
    code: 'custom',
    message:
      v === undefined || v === null || v === ''
        ? 'required for track calls: the name of the action, e.g. "Order Completed"'
        : typeof v === 'string'
          ? `must be at most ${MAX_EVENT_NAME} characters (got ${v.length}); put details in properties`
          : `must be a string, got ${kindOf(v)}`,
  });
  return z.NEVER;
});

/** A required identifier: `what` says what the field is for, to tell the sender what to send. */
const requiredId = (what: string) =>
  identifier.transform((v, ctx): string => {
    if (v !== undefined) return v;
    ctx.addIssue({ code: 'custom', message: `required for ${what}` });
    return z.NEVER;
  });

/**
 * Fields every call may carry. Their order is the order errors are found in. `.optional()` lets zod skip
 * absent keys; required fields stay non-optional so their transform runs and names what is missing.
 */
const common = {
  userId: identifier.optional(),
  anonymousId: identifier.optional(),
  messageId: messageId.optional(),
  timestamp: isoTime.optional(),
  originalTimestamp: isoTime.optional(),
  sentAt: isoTime.optional(),
  properties: jsonObject.optional(),
  traits: jsonObject.optional(),
  context: jsonObject.optional(),
  integrations: jsonObject.optional(),
};

/** Segment needs someone to attach a call to: a userId, an anonymousId, or both. */
const needsIdentity = (
  call: { userId?: string | undefined; anonymousId?: string | undefined },
  ctx: z.RefinementCtx,
) => {
  if (call.userId === undefined && call.anonymousId === undefined) {
    ctx.addIssue({ code: 'custom', path: ['userId'], message: 'required when anonymousId is absent' });
  }
};

export const trackSchema = z.object({ ...common, event: eventName }).superRefine(needsIdentity);
export const identifySchema = z.object(common).superRefine(needsIdentity);
export const pageSchema = z
  .object({ ...common, name: optionalText.optional(), category: optionalText.optional() })
  .superRefine(needsIdentity);
export const screenSchema = pageSchema;
export const groupSchema = z
  .object({ ...common, groupId: requiredId('group calls: the id of the account or company') })
  .superRefine(needsIdentity);
export const aliasSchema = z.object({
  ...common,
  userId: requiredId('alias calls: the id the user is known by from now on'),
  previousId: requiredId('alias calls: the earlier id (often the anonymousId) to merge into userId'),
});

export type TrackCall = z.output<typeof trackSchema>;
export type IdentifyCall = z.output<typeof identifySchema>;
export type PageCall = z.output<typeof pageSchema>;
export type ScreenCall = z.output<typeof screenSchema>;
export type GroupCall = z.output<typeof groupSchema>;
export type AliasCall = z.output<typeof aliasSchema>;

/** One schema per call type, for dispatch on the route or a batch item's `type`. */
export const callSchemas = {
  track: trackSchema,
  identify: identifySchema,
  page: pageSchema,
  screen: screenSchema,
  group: groupSchema,
  alias: aliasSchema,
} as const satisfies Record<EventType, z.ZodType>;

/** A validation outcome: the parsed call, or the first problem as a field path and how to fix it. */
export type Checked<T> = { ok: true; value: T } | { ok: false; field: string; reason: string };

/**
 * Runs a schema through its Standard Schema interface rather than safeParse: on failure, safeParse builds a
 * ZodError (an Error subclass: a captured stack and a JSON-formatted message), which made a rejected call
 * ~10x dearer than a valid one; a flood of bad events should not be the expensive case. Reports the first
 * issue only: one clear fix at a time reads better than zod's full list.
 */
export const check = <S extends z.ZodType>(schema: S, value: unknown): Checked<z.output<S>> => {
  const r = schema['~standard'].validate(value);
  // Our schemas have no async refinements; a Promise here is a programming error.
  if (r instanceof Promise) throw new Error('ingest schemas must be synchronous');
  if (r.issues === undefined) return { ok: true, value: r.value };
  const issue = r.issues[0];
  const field = issue?.path?.map((p) => String(typeof p === 'object' ? p.key : p)).join('.') ?? '';
  return { ok: false, field, reason: issue?.message ?? 'invalid call' };
};

/** Segment's batch limit is by size (500 KB); a count cap bounds the work one request can ask for. */
export const MAX_BATCH_ITEMS = 2500;

/** The `/v1/batch` envelope. Items are validated one by one later, so one bad item rejects only itself. */
export const batchEnvelopeSchema = z.object({
  batch: z.unknown().transform((v, ctx): unknown[] => {
    if (Array.isArray(v) && v.length > 0 && v.length <= MAX_BATCH_ITEMS) return v;
    ctx.addIssue({
      code: 'custom',
      message: !Array.isArray(v)
        ? `required: an array of calls, as in {"batch": [{"type": "track", ...}]}${v === undefined ? '' : `, got ${kindOf(v)}`}`
        : v.length === 0
          ? 'must contain at least one event'
          : `must contain at most ${MAX_BATCH_ITEMS} events (got ${v.length}); split it into several requests`,
    });
    return z.NEVER;
  }),
  sentAt: isoTime.optional(),
  context: jsonObject.optional(),
  integrations: jsonObject.optional(),
  writeKey: optionalText.optional(),
});

export type BatchEnvelope = z.output<typeof batchEnvelopeSchema>;
