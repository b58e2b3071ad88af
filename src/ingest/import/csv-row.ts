import type { Json, JsonObject } from '../../domain/index.js';

/*
 * How a CSV row becomes one Segment call (the header row names the columns; names are case-sensitive):
 *
 *   type                          the call type; when absent or empty: `track` if the row has an `event`,
 *                                 else `identify`
 *   event                         the track event name
 *   userId, user_id               kept as strings (never typed: "007" stays "007")
 *   anonymousId, anonymous_id
 *   messageId, message_id         when empty, the importer derives one from the row (see read-csv.ts)
 *   timestamp                     ISO-8601, as in the HTTP API
 *   groupId, group_id             group calls
 *   previousId, previous_id       alias calls
 *   name                          the page/screen name on page and screen rows; otherwise an ordinary column
 *   properties.X, traits.X,       go into that object; dots nest, so `properties.product.id` becomes
 *   context.X                     {"properties": {"product": {"id": …}}}
 *   any other column              a trait on identify and group rows, a property on every other row
 *                                 (taken whole: `a.b` is the key "a.b", not nested)
 *
 * Cells: an empty cell is absent. `true`/`false` (any case) become booleans. A decimal number in plain form
 * (`42`, `-3.5`) becomes a number unless it would not survive the round trip: a leading zero (`007`, a zip
 * code), a sign (`+4479…`, a phone), an exponent, or more digits than a double holds (long ids) keep it a
 * string. Everything else stays a string.
 *
 * A header that cannot map unambiguously (duplicate or empty names, `userId` with `user_id`, `properties.a`
 * with `properties.a.b`, `plan` with `traits.plan`, `__proto__`) is refused before any row is imported.
 */

type Bucket = 'properties' | 'traits' | 'context';

type Column =
  | { name: string; to: 'field'; field: string }
  | { name: string; to: 'nested'; bucket: Bucket; path: string[] }
  | { name: string; to: 'other'; key: string };

/** The mapping of one header, worked out once and applied to every row. */
export interface CsvPlan {
  names: string[];
  columns: Column[];
}

const FIELDS: Record<string, string> = {
  type: 'type',
  event: 'event',
  userId: 'userId',
  user_id: 'userId',
  anonymousId: 'anonymousId',
  anonymous_id: 'anonymousId',
  messageId: 'messageId',
  message_id: 'messageId',
  timestamp: 'timestamp',
  groupId: 'groupId',
  group_id: 'groupId',
  previousId: 'previousId',
  previous_id: 'previousId',
};
const BUCKETS: readonly Bucket[] = ['properties', 'traits', 'context'];
/** Keys that would write to an object's prototype instead of the object. */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Builds the plan for a header row; throws an Error naming the column when the header is ambiguous. */
export const planColumns = (header: readonly string[]): CsvPlan => {
  const seen = new Map<string, string>();
  const claim = (target: string, name: string): void => {
    const other = seen.get(target);
    if (other !== undefined) throw new Error(`columns "${other}" and "${name}" both map to ${target}`);
    seen.set(target, name);
  };
  const columns = header.map((name, i): Column => {
    if (name === '') throw new Error(`column ${i + 1} has no name`);
    const field = Object.hasOwn(FIELDS, name) ? FIELDS[name] : undefined;
    if (field !== undefined) {
      claim(field, name);
      return { name, to: 'field', field };
    }
    const dot = name.indexOf('.');
    const bucket = BUCKETS.find((b) => dot === b.length && name.startsWith(b));
    if (bucket === undefined) {
      if (UNSAFE_KEYS.has(name)) throw new Error(`column "${name}" is not allowed as a key`);
      return { name, to: 'other', key: name };
    }
    const path = name.slice(dot + 1).split('.');
    if (path.some((p) => p === '' || UNSAFE_KEYS.has(p))) {
      throw new Error(
        `column "${name}": write ${bucket}.key or ${bucket}.key.subkey (no empty or reserved parts)`,
      );
    }
    return { name, to: 'nested', bucket, path };
  });
  checkOverlaps(columns);
  return { names: [...header], columns };
};

/** `properties.a` with `properties.a.b` (or `plan` with `traits.plan`) would write one key twice. */
const checkOverlaps = (columns: readonly Column[]): void => {
  const paths: { name: string; buckets: Bucket[]; path: string[] }[] = columns.flatMap((c) => {
    if (c.to === 'nested') return [{ name: c.name, buckets: [c.bucket], path: c.path }];
    if (c.to === 'other')
      return [{ name: c.name, buckets: ['properties', 'traits'] as Bucket[], path: [c.key] }];
    return [];
  });
  for (let i = 0; i < paths.length; i++) {
    for (let j = i + 1; j < paths.length; j++) {
      const a = paths[i] as (typeof paths)[number];
      const b = paths[j] as (typeof paths)[number];
      const bucket = a.buckets.find((x) => b.buckets.includes(x));
      const n = Math.min(a.path.length, b.path.length);
      if (bucket !== undefined && a.path.slice(0, n).every((p, k) => p === b.path[k])) {
        throw new Error(
          `columns "${a.name}" and "${b.name}" would both set ${bucket}.${a.path.slice(0, n).join('.')}`,
        );
      }
    }
  }
};

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/;
/** A double holds 15 significant decimal digits exactly; beyond that "3.14159265358979323" would change. */
const MAX_DIGITS = 15;

/** A cell's value; undefined for an empty cell. */
export const parseCell = (text: string): Json | undefined => {
  if (text === '') return undefined;
  if (NUMBER.test(text)) {
    const n = Number(text);
    const exact = text.includes('.')
      ? text.replace(/[-.]/g, '').length <= MAX_DIGITS
      : Number.isSafeInteger(n);
    return exact ? n : text;
  }
  const lower = text.length <= 5 ? text.toLowerCase() : '';
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  return text;
};

const setPath = (target: JsonObject, path: readonly string[], value: Json): void => {
  let node = target;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i] as string;
    const next = node[key];
    if (typeof next === 'object' && next !== null && !Array.isArray(next)) {
      node = next;
    } else {
      const child: JsonObject = {};
      node[key] = child;
      node = child;
    }
  }
  node[path[path.length - 1] as string] = value;
};

/**
 * One row (cells keyed by column name) → a Segment call object for the ingest service. The call is not
 * validated here: the service does that, exactly as for the HTTP API.
 */
export const rowToCall = (
  plan: CsvPlan,
  cells: Readonly<Record<string, string | undefined>>,
): Record<string, Json> => {
  const call: Record<string, Json> = {};
  for (const c of plan.columns) {
    if (c.to !== 'field') continue;
    const text = cells[c.name];
    // Top-level fields stay strings: ids and names are text even when they look like numbers.
    if (text !== undefined && text !== '') call[c.field] = text;
  }
  if (call.type === undefined) call.type = call.event === undefined ? 'identify' : 'track';
  const type = call.type;
  const rest: Bucket = type === 'identify' || type === 'group' ? 'traits' : 'properties';
  const pageName = type === 'page' || type === 'screen';
  const buckets: Partial<Record<Bucket, JsonObject>> = {};
  const bucket = (b: Bucket): JsonObject => (buckets[b] ??= {});
  for (const c of plan.columns) {
    if (c.to === 'field') continue;
    const text = cells[c.name];
    if (text === undefined || text === '') continue;
    if (c.to === 'other' && c.key === 'name' && pageName) {
      call.name = text;
      continue;
    }
    const value = parseCell(text) as Json;
    if (c.to === 'nested') setPath(bucket(c.bucket), c.path, value);
    else bucket(rest)[c.key] = value;
  }
  for (const b of BUCKETS) {
    const obj = buckets[b];
    if (obj !== undefined) call[b] = obj;
  }
  return call;
};
