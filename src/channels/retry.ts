/** The retry part of a channel's config: `maxAttempts` in total, the first delay `backoff` in ms. */
export interface RetryPolicy {
  maxAttempts: number;
  backoff: number;
}

/** ±20%: spreads the retries of a batch that failed together so they do not hit the provider together again. */
const JITTER = 0.2;
/** Doubling from 30 s passes a day at attempt 13; past that a retry is no longer "later", just lost. */
const MAX_BASE_DELAY_MS = 24 * 3_600_000;

/**
 * Milliseconds to wait after attempt number `attempt` (1 = the first send) failed with a retryable result,
 * or undefined when that was the last allowed attempt. Exponential: `backoff · 2^(attempt−1)` (capped at a
 * day), times a uniform factor in [0.8, 1.2) drawn from `random` (a function returning [0, 1)).
 */
export const nextAttemptDelay = (
  attempt: number,
  retry: RetryPolicy,
  random: () => number,
): number | undefined => {
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new RangeError(`attempt must be an integer from 1, got ${attempt}`);
  }
  if (attempt >= retry.maxAttempts) return undefined;
  const base = Math.min(retry.backoff * 2 ** (attempt - 1), MAX_BASE_DELAY_MS);
  return Math.round(base * (1 + JITTER * (2 * random() - 1)));
};
