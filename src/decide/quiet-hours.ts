import { localTime } from '../domain/index.js';

const localMinutes = (at: number, timeZone: string): number | undefined => {
  const t = localTime(at, timeZone);
  return t === undefined ? undefined : t.hour * 60 + t.minute;
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
