import type { SparseFeatures } from '../domain/decision.js';
import type { JsonObject } from '../domain/event.js';
import { FNV_OFFSET, fmix32, fnv } from './hash.js';
import { localHour } from './hour-of-week.js';
import { SparseBuilder } from './sparse-builder.js';

/** What the model may know about a customer at decision time. */
export interface FeatureInput {
  traits: JsonObject;
  /** Computed trait values by name. */
  computed: Record<string, unknown>;
  segments: readonly string[];
  /** The triggering event, when a track event triggered the decision. */
  event?: { name: string; properties: JsonObject };
  /** Placement context sent with `POST /v1/decide`. */
  context?: JsonObject;
  /** Decision time, epoch ms. */
  at: number;
  /** The customer's IANA time zone; UTC when missing or unknown. */
  timeZone?: string;
  /** The customer's latest messages, newest first, and whether each got a response. */
  recent?: ReadonlyArray<{ channel: string; responded: boolean }>;
}

/** Longer strings are free text or identifiers: as categories they would never repeat. */
const MAX_STRING = 40;
/** Bounds the work per object and per array, whatever a client sends. */
const MAX_KEYS = 64;
const MAX_ITEMS = 16;
/** Numeric features are log-squashed and clipped so one huge value cannot dominate w·x. */
const MAX_NUMERIC = 10;

const IDENTIFIER_KEYS = new Set([
  'email',
  'phone',
  'name',
  'firstname',
  'lastname',
  'userid',
  'anonymousid',
  'address',
  'id',
]);
const ID_SUFFIX = /(?:[a-z0-9]Id|ID|[_-]id)$/;
const identifierCache = new Map<string, boolean>();

/**
 * Keys whose values identify a person (or a record) rather than describe one: `email`, `first_name`, `userId`,
 * `productId`, `phoneNumber`. Each value would be its own feature, seen once: noise for the model, and personal
 * data it has no need to hold. Cached, because the same few keys repeat on every call.
 */
const isIdentifierKey = (key: string): boolean => {
  let known = identifierCache.get(key);
  if (known === undefined) {
    const flat = key.toLowerCase().replace(/[\s_-]/g, '');
    known =
      IDENTIFIER_KEYS.has(flat) || flat.includes('email') || flat.includes('phone') || ID_SUFFIX.test(key);
    if (identifierCache.size >= 10_000) identifierCache.clear();
    identifierCache.set(key, known);
  }
  return known;
};

const isDigit = (s: string, i: number): boolean => {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
};

/** ISO dates (`2026-03-01…`): a timestamp as a category never repeats. */
const looksLikeDate = (s: string): boolean =>
  s.length >= 10 && s[4] === '-' && s[7] === '-' && isDigit(s, 0) && isDigit(s, 3) && isDigit(s, 5);

const squash = (x: number): number => {
  const y = Math.sign(x) * Math.log1p(Math.abs(x));
  return y > MAX_NUMERIC ? MAX_NUMERIC : y < -MAX_NUMERIC ? -MAX_NUMERIC : y;
};

const NS = {
  trait: fnv(FNV_OFFSET, 't:'),
  computed: fnv(FNV_OFFSET, 'c:'),
  segment: fnv(FNV_OFFSET, 's:'),
  event: fnv(FNV_OFFSET, 'e:'),
  property: fnv(FNV_OFFSET, 'ep:'),
  context: fnv(FNV_OFFSET, 'x:'),
  hourOfWeek: fnv(FNV_OFFSET, 'how:'),
  hourOfDay: fnv(FNV_OFFSET, 'hod:'),
  dayOfWeek: fnv(FNV_OFFSET, 'dow:'),
  recent: fnv(FNV_OFFSET, 'r:'),
};
const BIAS_HASH = fmix32(fnv(FNV_OFFSET, 'bias'));
const NUMBERS = Array.from({ length: 168 }, (_, i) => String(i));

/** The slot of the always-on bias feature (value 1) for `bits`-bit hashing; `learn/logistic` keys intercepts on it. */
export const biasIndex = (bits: number): number => BIAS_HASH & ((1 << bits) - 1);

/** Shared: hashFeatures is synchronous and never re-entered. */
const builder = new SparseBuilder();
let mask = 0;

const put = (h: number, value: number): void => builder.add(fmix32(h) & mask, value);

/**
 * One value under the running hash `h` (namespace and parent path already hashed, `key` not yet): strings and
 * booleans become one-hot `key=value` features, numbers `key` with a squashed value, objects are flattened one
 * level (`consent.email`), arrays of short strings become one feature per item (tags, interests).
 */
const putValue = (h: number, key: string, value: unknown, depth: number): void => {
  switch (typeof value) {
    case 'string':
      if (value === '' || value.length > MAX_STRING || looksLikeDate(value) || isIdentifierKey(key)) return;
      put(fnv(fnv(fnv(h, key), '='), value), 1);
      return;
    case 'number':
      if (Number.isFinite(value) && !isIdentifierKey(key)) put(fnv(h, key), squash(value));
      return;
    case 'boolean':
      // Booleans never identify anyone, and `consent.email: true` is exactly what the model should see.
      put(fnv(fnv(h, key), value ? '=true' : '=false'), 1);
      return;
    case 'object':
      if (value === null || value instanceof Date || isIdentifierKey(key)) return;
      if (Array.isArray(value)) {
        const hk = fnv(fnv(h, key), '=');
        const n = Math.min(value.length, MAX_ITEMS);
        for (let i = 0; i < n; i++) {
          const item: unknown = value[i];
          if (typeof item === 'string' && item !== '' && item.length <= MAX_STRING) put(fnv(hk, item), 1);
        }
      } else if (depth === 0) {
        putObject(fnv(fnv(h, key), '.'), value as Record<string, unknown>, 1);
      }
      return;
    default:
      return;
  }
};

const putObject = (h: number, obj: Record<string, unknown>, depth: number): void => {
  // Object.keys and Object.values (the same order), not for…in: large trait objects are in V8's dictionary mode,
  // where for…in is several times slower, and a lookup per key (`obj[key]`) costs more than the values in one go.
  const keys = Object.keys(obj);
  const values = Object.values(obj);
  const n = Math.min(keys.length, MAX_KEYS);
  for (let i = 0; i < n; i++) putValue(h, keys[i] ?? '', values[i], depth);
};

const putRecent = (recent: ReadonlyArray<{ channel: string; responded: boolean }>): void => {
  const hashes: number[] = [];
  const counts: number[] = [];
  for (const r of recent) {
    const h = fnv(fnv(fnv(NS.recent, r.channel), '='), r.responded ? 'responded' : 'ignored');
    const j = hashes.indexOf(h);
    if (j < 0) {
      hashes.push(h);
      counts.push(1);
    } else counts[j] = (counts[j] ?? 0) + 1;
  }
  // log1p: the third ignored email says less than the first.
  for (let j = 0; j < hashes.length; j++) put(hashes[j] ?? 0, Math.log1p(counts[j] ?? 0));
};

/**
 * The hashing trick (Weinberger et al. 2009): every feature is a namespaced string (`t:plan=pro`, `s:vip`,
 * `how:57`) hashed into `bits` bits, so the model needs no vocabulary and never sees a new column. Features:
 * `bias` (1); traits `t:` and computed traits `c:` (strings one-hot, numbers as sign(x)·log1p|x| clipped to
 * ±10, booleans, one level of nesting); segments `s:`; the event name `e:` and its properties `ep:`; placement
 * context `x:`; local `how:` hour of week (0–167, 0 = Sunday 00h), `hod:` hour of day, `dow:` day of week; and
 * `r:channel=responded|ignored` with log1p of the count. Identifier-like keys, ISO dates and strings over 40
 * characters are skipped. Repeated slots are summed, so `idx` is unique. Deterministic; allocation-free per
 * character (strings are hashed in pieces, never concatenated).
 */
export const hashFeatures = (input: FeatureInput, bits: number): SparseFeatures => {
  if (!Number.isInteger(bits) || bits < 1 || bits > 30) {
    throw new Error(`hashFeatures: bits must be an integer from 1 to 30, got ${bits}`);
  }
  if (!Number.isFinite(input.at))
    throw new Error(`hashFeatures: at must be epoch milliseconds, got ${input.at}`);
  mask = (1 << bits) - 1;
  try {
    builder.add(BIAS_HASH & mask, 1);
    putObject(NS.trait, input.traits, 0);
    putObject(NS.computed, input.computed, 0);
    for (const s of input.segments) put(fnv(NS.segment, s), 1);
    if (input.event) {
      put(fnv(NS.event, input.event.name), 1);
      putObject(NS.property, input.event.properties, 0);
    }
    if (input.context) putObject(NS.context, input.context, 0);
    const local = localHour(input.at, input.timeZone);
    put(fnv(NS.hourOfWeek, NUMBERS[local.hourOfWeek] ?? ''), 1);
    put(fnv(NS.hourOfDay, NUMBERS[local.hour] ?? ''), 1);
    put(fnv(NS.dayOfWeek, NUMBERS[local.day] ?? ''), 1);
    if (input.recent) putRecent(input.recent);
  } catch (e) {
    builder.take(); // leave the shared builder empty for the next call
    throw e;
  }
  return builder.take();
};
