import { describe, expect, it } from 'vitest';
import { nextAttemptDelay } from '../../src/channels/index.js';

const retry = { maxAttempts: 5, backoff: 30_000 };

describe('nextAttemptDelay', () => {
  it('doubles from the backoff after each failed attempt', () => {
    const mid = () => 0.5; // no jitter
    expect([1, 2, 3, 4].map((a) => nextAttemptDelay(a, retry, mid))).toEqual([
      30_000, 60_000, 120_000, 240_000,
    ]);
  });

  it('is undefined once maxAttempts attempts were made', () => {
    expect(nextAttemptDelay(5, retry, () => 0.5)).toBeUndefined();
    expect(nextAttemptDelay(9, retry, () => 0.5)).toBeUndefined();
    expect(nextAttemptDelay(1, { maxAttempts: 1, backoff: 1_000 }, () => 0.5)).toBeUndefined();
  });

  it('jitters by ±20%', () => {
    expect(nextAttemptDelay(2, retry, () => 0)).toBe(48_000);
    expect(nextAttemptDelay(2, retry, () => 0.999_999)).toBeCloseTo(72_000, -1);
    let seed = 7;
    const lcg = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 1000; i++) {
      const d = nextAttemptDelay(3, retry, lcg) as number;
      expect(d).toBeGreaterThanOrEqual(96_000);
      expect(d).toBeLessThanOrEqual(144_000);
    }
  });

  it('caps the base delay at a day', () => {
    const d = nextAttemptDelay(19, { maxAttempts: 20, backoff: 30_000 }, () => 0.5);
    expect(d).toBe(86_400_000);
  });

  it('refuses an attempt number below 1', () => {
    expect(() => nextAttemptDelay(0, retry, () => 0.5)).toThrow(RangeError);
    expect(() => nextAttemptDelay(1.5, retry, () => 0.5)).toThrow(RangeError);
  });
});
