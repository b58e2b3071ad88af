/**
 * Wall-clock time in an IANA time zone (quiet hours, hour-of-week features). `Intl.DateTimeFormat` is slow to
 * build (tens of µs), so one formatter is cached per zone; zone names come from customer traits, so the cache
 * is bounded against junk values.
 */

/** `day` 0 = Sunday … 6 = Saturday; `hour` 0–23; `minute` 0–59. */
export interface LocalTime {
  day: number;
  hour: number;
  minute: number;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
const MAX_ZONES = 1000;
/** Null for an invalid zone, so it is not tried (and does not throw) again. */
const formatters = new Map<string, Intl.DateTimeFormat | null>();

const formatterFor = (timeZone: string): Intl.DateTimeFormat | null => {
  let f = formatters.get(timeZone);
  if (f !== undefined) return f;
  try {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: 'numeric',
      minute: 'numeric',
      hourCycle: 'h23',
    });
  } catch {
    f = null; // RangeError: not a zone this runtime knows.
  }
  if (formatters.size >= MAX_ZONES) formatters.clear();
  formatters.set(timeZone, f);
  return f;
};

export const isValidTimeZone = (timeZone: string): boolean => formatterFor(timeZone) !== null;

/** The local day, hour and minute of `at` (epoch ms) in `timeZone`, or undefined when the zone is invalid. */
export const localTime = (at: number, timeZone: string): LocalTime | undefined => {
  const f = formatterFor(timeZone);
  if (f === null) return undefined;
  let day = 0;
  let hour = 0;
  let minute = 0;
  for (const part of f.formatToParts(at)) {
    if (part.type === 'weekday') day = WEEKDAYS[part.value] ?? 0;
    else if (part.type === 'hour') hour = Number(part.value) % 24;
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { day, hour, minute };
};
