import { z } from 'zod';

/** Durations in config are written `30s`, `15m`, `24h`, `7d`, `2w`. */
const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

export const parseDuration = (text: string): number | undefined => {
  const m = DURATION_RE.exec(text.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (UNIT_MS[m[2] as string] as number));
};

/** A duration string as milliseconds; `0s` is accepted only where zero means "off". */
export const durationSchema = (opts: { allowZero: boolean; example: string }) =>
  z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined || ms < 0 || (ms === 0 && !opts.allowZero)) {
      ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration: write e.g. ${opts.example}` });
      return z.NEVER;
    }
    return ms;
  });

export const duration = durationSchema({ allowZero: false, example: '30m, 24h, 7d' });
