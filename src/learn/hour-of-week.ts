/**
 * Local hour of week for a customer's IANA time zone. Behaviour is local (people open email at 8 am *their*
 * time), so the model sees local hours. `Intl.DateTimeFormat` is slow to build (tens of µs) and to run (~1 µs), so
 * formatters are cached per zone and each zone remembers its last answer for the current quarter hour: every
 * UTC offset in use is a multiple of 15 minutes, so the local hour cannot change inside one.
 */

/** `day` 0 = Sunday … 6 = Saturday; `hour` 0–23; `hourOfWeek` = day · 24 + hour (0–167). */
export interface LocalHour {
  day: number;
  hour: number;
  hourOfWeek: number;
}

const QUARTER_HOUR_MS = 900_000;
const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
/** Zone names come from customer traits, so the cache is bounded against junk values. */
const MAX_ZONES = 1000;

interface ZoneCache {
  /** Null for an invalid zone: it falls back to UTC without throwing again. */
  format: Intl.DateTimeFormat | null;
  quarter: number;
  last: LocalHour | null;
}

const zones = new Map<string, ZoneCache>();

const HOUR_MS = 3_600_000;

/** Plain arithmetic, no Date: 1970-01-01 was a Thursday (day 4). */
const utcHour = (at: number): LocalHour => {
  const hours = Math.floor(at / HOUR_MS);
  const hour = ((hours % 24) + 24) % 24;
  const day = (((Math.floor(hours / 24) + 4) % 7) + 7) % 7;
  return { day, hour, hourOfWeek: day * 24 + hour };
};

const zoneCache = (timeZone: string): ZoneCache => {
  let cache = zones.get(timeZone);
  if (cache) return cache;
  let format: Intl.DateTimeFormat | null;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: 'numeric',
      hourCycle: 'h23',
    });
  } catch {
    format = null; // RangeError: not a zone this runtime knows.
  }
  if (zones.size >= MAX_ZONES) zones.clear();
  cache = { format, quarter: NaN, last: null };
  zones.set(timeZone, cache);
  return cache;
};

/** The local day and hour of `at` (epoch ms) in `timeZone`; UTC when the zone is missing or invalid. */
export const localHour = (at: number, timeZone?: string): LocalHour => {
  if (timeZone === undefined || timeZone === '' || timeZone === 'UTC') return utcHour(at);
  const cache = zoneCache(timeZone);
  if (cache.format === null) return utcHour(at);
  const quarter = Math.floor(at / QUARTER_HOUR_MS);
  if (cache.quarter === quarter && cache.last) return cache.last;
  let day = 0;
  let hour = 0;
  for (const part of cache.format.formatToParts(at)) {
    if (part.type === 'weekday') day = WEEKDAYS[part.value] ?? 0;
    else if (part.type === 'hour') hour = Number(part.value) % 24;
  }
  const result = { day, hour, hourOfWeek: day * 24 + hour };
  cache.quarter = quarter;
  cache.last = result;
  return result;
};
