/**
 * Local hour of week for a customer's IANA time zone. Behaviour is local (people open email at 8 am *their*
 * time), so the model sees local hours. Formatting is slow (~1 µs), so each zone remembers its last answer for the
 * current quarter hour: every UTC offset in use is a multiple of 15 minutes, so the local hour cannot change inside one.
 */

import { localTime } from '../domain/local-time.js';

/** `day` 0 = Sunday … 6 = Saturday; `hour` 0–23; `hourOfWeek` = day · 24 + hour (0–167). */
export interface LocalHour {
  day: number;
  hour: number;
  hourOfWeek: number;
}

const QUARTER_HOUR_MS = 900_000;
const HOUR_MS = 3_600_000;

/** Each zone remembers its last answer for the current quarter hour. */
const last = new Map<string, { quarter: number; value: LocalHour }>();

/** Plain arithmetic, no Date: 1970-01-01 was a Thursday (day 4). */
const utcHour = (at: number): LocalHour => {
  const hours = Math.floor(at / HOUR_MS);
  const hour = ((hours % 24) + 24) % 24;
  const day = (((Math.floor(hours / 24) + 4) % 7) + 7) % 7;
  return { day, hour, hourOfWeek: day * 24 + hour };
};

/** The local day and hour of `at` (epoch ms) in `timeZone`; UTC when the zone is missing or invalid. */
export const localHour = (at: number, timeZone?: string): LocalHour => {
  if (timeZone === undefined || timeZone === '' || timeZone === 'UTC') return utcHour(at);
  const quarter = Math.floor(at / QUARTER_HOUR_MS);
  const cached = last.get(timeZone);
  if (cached !== undefined && cached.quarter === quarter) return cached.value;
  const t = localTime(at, timeZone);
  if (t === undefined) return utcHour(at);
  const value = { day: t.day, hour: t.hour, hourOfWeek: t.day * 24 + t.hour };
  if (last.size >= 1000) last.clear();
  last.set(timeZone, { quarter, value });
  return value;
};
