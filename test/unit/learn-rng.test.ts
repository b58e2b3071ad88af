import { describe, expect, it } from 'vitest';
import { beta, fillNormal, gamma, normal, seededRng, type Rng } from '../../src/learn/index.js';

const N = 100_000;

const moments = (draw: () => number, n = N): { mean: number; variance: number } => {
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const x = draw();
    sum += x;
    sumSq += x * x;
  }
  const mean = sum / n;
  return { mean, variance: sumSq / n - mean * mean };
};

describe('seededRng', () => {
  it('replays the same sequence for the same seed and differs across seeds', () => {
    const take = (rng: Rng): number[] => Array.from({ length: 20 }, () => rng.next());
    expect(take(seededRng(42))).toEqual(take(seededRng(42)));
    expect(take(seededRng(42))).not.toEqual(take(seededRng(43)));
    // High bits of large seeds matter too.
    expect(take(seededRng(2 ** 40))).not.toEqual(take(seededRng(2 ** 41)));
  });

  it('draws uniformly from [0, 1)', () => {
    const rng = seededRng(1);
    let min = 1;
    let max = 0;
    const { mean, variance } = moments(() => {
      const u = rng.next();
      min = Math.min(min, u);
      max = Math.max(max, u);
      return u;
    });
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(mean).toBeCloseTo(0.5, 2);
    expect(variance).toBeCloseTo(1 / 12, 2);
  });

  it('rejects a seed that is not a finite number', () => {
    expect(() => seededRng(Number.NaN)).toThrow(/seed/);
  });
});

describe('normal', () => {
  it('has mean 0 and variance 1', () => {
    const rng = seededRng(7);
    const { mean, variance } = moments(() => normal(rng));
    expect(Math.abs(mean)).toBeLessThan(0.015); // ~4.7 standard errors
    expect(Math.abs(variance - 1)).toBeLessThan(0.025);
  });

  it('is reproducible per generator, also for generators that are not ours', () => {
    const wrap = (seed: number): Rng => {
      const inner = seededRng(seed);
      return { next: () => inner.next() };
    };
    const a = wrap(3);
    const b = wrap(3);
    const other = wrap(4);
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < 11; i++) {
      xs.push(normal(a));
      normal(other); // interleaving another generator must not shift a's sequence
      ys.push(normal(b));
    }
    expect(xs).toEqual(ys);
    const { mean, variance } = moments(() => normal(a), 50_000);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(variance - 1)).toBeLessThan(0.035);
  });
});

describe('normal: the ziggurat', () => {
  /** Upper tail of N(0, 1), from erfc (Numerical Recipes' erfcc, relative error < 1.2e-7). */
  const upper = (x: number): number => {
    const z = Math.abs(x) / Math.SQRT2;
    const t = 1 / (1 + 0.5 * z);
    const poly =
      -1.26551223 +
      t *
        (1.00002368 +
          t *
            (0.37409196 +
              t *
                (0.09678418 +
                  t *
                    (-0.18628806 +
                      t *
                        (0.27886807 +
                          t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
    const erfc = t * Math.exp(-z * z + poly);
    return x >= 0 ? erfc / 2 : 1 - erfc / 2;
  };

  it('puts the right mass in the body, the wedges and both tails (chi-square over 14 bins)', () => {
    // Edges at 3.4426 (the base layer's edge, beyond which the tail sampler takes over) and in between.
    const edges = [-Infinity, -4, -3.4426, -3, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3, 3.4426, 4, Infinity];
    const n = 2_000_000;
    const out = new Float64Array(n);
    fillNormal(seededRng(123), out, n);
    const counts = new Array<number>(edges.length - 1).fill(0);
    for (const x of out) {
      let j = 0;
      while (x >= edges[j + 1]!) j++;
      counts[j]!++;
    }
    let chi2 = 0;
    counts.forEach((c, j) => {
      const expected = n * (upper(edges[j]!) - upper(edges[j + 1]!));
      chi2 += (c - expected) ** 2 / expected;
    });
    // 15 degrees of freedom: P(chi2 > 37.7) = 0.001.
    expect(chi2).toBeLessThan(37.7);
  });

  it('fillNormal draws exactly what as many normal() calls would', () => {
    const a = seededRng(5);
    const b = seededRng(5);
    const out = new Float64Array(50_000);
    fillNormal(a, out, out.length);
    const one = Float64Array.from({ length: out.length }, () => normal(b));
    expect(out).toEqual(one);
    expect(a.next()).toBe(b.next());
    // Also for generators that are not ours.
    const inner = seededRng(6);
    const foreign: Rng = { next: () => inner.next() };
    const again = seededRng(6);
    const twin: Rng = { next: () => again.next() };
    const few = new Float64Array(1000);
    fillNormal(foreign, few, 1000);
    expect(few).toEqual(Float64Array.from({ length: 1000 }, () => normal(twin)));
    expect(() => fillNormal(a, new Float64Array(2), 3)).toThrow(/fit/);
  });
});

describe('gamma and beta', () => {
  it.each([0.5, 1, 3.5])('Gamma(%d) has mean and variance equal to its shape', (shape) => {
    const rng = seededRng(11);
    const { mean, variance } = moments(() => gamma(rng, shape));
    expect(Math.abs(mean - shape)).toBeLessThan(0.03 * Math.sqrt(shape));
    expect(Math.abs(variance - shape) / shape).toBeLessThan(0.05);
  });

  it.each([
    [2, 5],
    [0.5, 0.5],
    [30, 970],
  ])('Beta(%d, %d) has the right mean and variance', (a, b) => {
    const rng = seededRng(13);
    const n = a + b;
    const wantMean = a / n;
    const wantVar = (a * b) / (n * n * (n + 1));
    const { mean, variance } = moments(() => beta(rng, a, b));
    expect(Math.abs(mean - wantMean)).toBeLessThan(5 * Math.sqrt(wantVar / N));
    expect(Math.abs(variance - wantVar) / wantVar).toBeLessThan(0.05);
  });

  it('rejects a shape that is not positive', () => {
    expect(() => gamma(seededRng(1), 0)).toThrow(/shape/);
    expect(() => beta(seededRng(1), Number.NaN, 1)).toThrow(/shape/);
  });
});
