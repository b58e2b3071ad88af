/** Local wall-clock minutes of the day in an IANA time zone; formatters are cached per zone (building one is slow). */
const formatters = new Map<string, Intl.DateTimeFormat | null>();

const formatterFor = (timeZone: string): Intl.DateTimeFormat | null => {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-GB', {
        timeZone,
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      });
    } catch {
      f = null; // an invalid zone in a customer's traits: the caller falls back to the default zone
    }
    formatters.set(timeZone, f);
  }
  return f;
};

export const isValidTimeZone = (timeZone: string): boolean => formatterFor(timeZone) !== null;

export const localMinutes = (at: number, timeZone: string): number | undefined => {
  const f = formatterFor(timeZone);
  if (f === null) return undefined;
  let hour = 0;
  let minute = 0;
  for (const p of f.formatToParts(at)) {
    if (p.type === 'hour') hour = Number(p.value);
    else if (p.type === 'minute') minute = Number(p.value);
  }
  return hour * 60 + minute;
};

/** Whether `m` (minutes of the day) is inside [start, end), where the window may wrap midnight (21:00–08:00). */
export const inWindow = (m: number, start: number, end: number): boolean =>
  start < end ? m >= start && m < end : m >= start || m < end;

/**
 * When quiet hours are over, as epoch ms, or undefined when `at` is not inside them. Counted in local
 * minutes from `at`, so on the night a zone changes its clocks the send may move by up to an hour.
 */
export const quietHoursEnd = (
  at: number,
  timeZone: string,
  window: { start: number; end: number },
): number | undefined => {
  const m = localMinutes(at, timeZone);
  if (m === undefined || !inWindow(m, window.start, window.end)) return undefined;
  const minutesLeft = (window.end - m + 1440) % 1440;
  const startOfMinute = at - (at % 60_000);
  return startOfMinute + minutesLeft * 60_000;
};
