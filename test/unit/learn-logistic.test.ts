import { describe, expect, it } from 'vitest';
import {
  biasIndex,
  hashFeatures,
  LogisticRegression,
  meanProbability,
  seededRng,
  sigmoid,
  type FeatureInput,
} from '../../src/learn/index.js';
import type { SparseFeatures } from '../../src/domain/decision.js';

const BITS = 16;
const AT = Date.UTC(2026, 0, 5, 12);
const customer = (kind: string): SparseFeatures =>
  hashFeatures({ traits: { kind }, computed: {}, segments: [], at: AT } satisfies FeatureInput, BITS);

/** Arm A converts 30% of kind one and 5% of kind two; arm B the reverse. */
const TRUTH: Record<string, Record<string, number>> = {
  A: { one: 0.3, two: 0.05 },
  B: { one: 0.05, two: 0.3 },
};
const KINDS = ['one', 'two'] as const;
const ARMS = ['A', 'B'] as const;

const probability = (model: LogisticRegression, arm: string, x: SparseFeatures): number =>
  meanProbability({ model: 'logistic', ...model.score(arm, x), observations: 0 });

const train = (model: LogisticRegression, steps: number, seed: number): void => {
  const rng = seededRng(seed);
  const xs = { one: customer('one'), two: customer('two') };
  for (let i = 0; i < steps; i++) {
    const kind = KINDS[rng.next() < 0.5 ? 0 : 1] ?? 'one';
    const arm = ARMS[rng.next() < 0.5 ? 0 : 1] ?? 'A';
    const reward = rng.next() < (TRUTH[arm]?.[kind] ?? 0) ? 1 : 0;
    model.update(arm, xs[kind], reward);
  }
};

describe('LogisticRegression', () => {
  it('learns which arm suits which customer kind, and how well', () => {
    const model = new LogisticRegression({ featureBits: BITS, priorVariance: 1 });
    train(model, 5000, 99);
    for (const kind of KINDS) {
      const x = customer(kind);
      const a = probability(model, 'A', x);
      const b = probability(model, 'B', x);
      expect(kind === 'one' ? a > b : b > a).toBe(true);
      expect(Math.abs(a - (TRUTH.A?.[kind] ?? 0))).toBeLessThan(0.05);
      expect(Math.abs(b - (TRUTH.B?.[kind] ?? 0))).toBeLessThan(0.05);
    }
  });

  it('grows more certain with data', () => {
    const model = new LogisticRegression({ featureBits: BITS, priorVariance: 1 });
    const x = customer('one');
    const v0 = model.score('A', x).variance;
    train(model, 200, 5);
    const v1 = model.score('A', x).variance;
    train(model, 2000, 6);
    const v2 = model.score('A', x).variance;
    expect(v1).toBeLessThan(v0);
    expect(v2).toBeLessThan(v1);
    // An arm never updated stays at its prior.
    expect(model.score('C', x).variance).toBe(v0);
  });

  it('finds the MAP of one observation: m_new = m_old + (r − σ(m_new·x))·Σx', () => {
    const model = new LogisticRegression({ featureBits: BITS, priorVariance: 1 });
    const x: SparseFeatures = { idx: [1234], val: [2] };
    for (const reward of [1, 0, 0.3]) {
      const before = model.score('A', x);
      model.update('A', x, reward);
      const after = model.score('A', x);
      // One feature: Δz = x·Δm = t·x²/q = t·(the prior score variance), where t = r − σ(z at the MAP).
      const t = (after.mean - before.mean) / before.variance;
      expect(Math.abs(t - (reward - sigmoid(after.mean)))).toBeLessThan(1e-12);
    }
  });

  it('rejects a bad reward or bad features and changes nothing', () => {
    const model = new LogisticRegression({ featureBits: BITS, priorVariance: 1 });
    const x = customer('one');
    model.update('A', x, 1);
    const before = model.score('A', x);
    expect(() => model.update('A', x, Number.NaN)).toThrow(/reward/);
    expect(() => model.update('A', x, 2)).toThrow(/reward/);
    expect(() => model.update('A', x, -0.1)).toThrow(/reward/);
    expect(() => model.update('A', { idx: [1], val: [Number.POSITIVE_INFINITY] }, 1)).toThrow(/val\[0\]/);
    expect(() => model.update('A', { idx: [2 ** BITS], val: [1] }, 1)).toThrow(/featureBits/);
    expect(() => model.update('A', { idx: [1.5], val: [1] }, 1)).toThrow(/idx\[0\]/);
    expect(() => model.update('A', { idx: [1, 2], val: [1] }, 1)).toThrow(/idx has 2/);
    expect(() => model.score('A', { idx: [1], val: [Number.NaN] })).toThrow(/val\[0\]/);
    expect(model.score('A', x)).toEqual(before);
  });

  it('rejects bad settings', () => {
    expect(() => new LogisticRegression({ featureBits: 0, priorVariance: 1 })).toThrow(/featureBits/);
    expect(() => new LogisticRegression({ featureBits: 12, priorVariance: 0 })).toThrow(/priorVariance/);
  });
});

describe('LogisticRegression.scoreAll', () => {
  const bits = 12;
  const bias = biasIndex(bits);

  /**
   * The score by definition, one arm at a time: the intercept for the bias occurrences, the arm's slot for
   * every other feature, those scaled to unit length when longer (an arm that never learned scores at the
   * prior). Sums in the model's order (bias apart, then the features in order), so equality is exact.
   */
  const reference = (model: LogisticRegression, arm: string, x: SparseFeatures) => {
    const icpt = model.interceptOf(arm);
    const k = model.arms.get(arm);
    let bs = 0;
    let bq = 0;
    let plain = 0;
    x.idx.forEach((j, i) => {
      if (j !== bias) plain += x.val[i]! * x.val[i]!;
    });
    const scale = plain > 1 ? 1 / Math.sqrt(plain) : 1;
    let mean = 0;
    let variance = 0;
    x.idx.forEach((j, i) => {
      const v = x.val[i]!;
      if (j === bias) {
        bs += v;
        bq += v * v;
        return;
      }
      const u = scale === 1 ? v : v * scale;
      if (k === undefined) {
        variance += u * u * model.priorVariance;
      } else {
        const slot = model.slotOf(j, k);
        mean += model.meanAt(slot) * u;
        variance += u * u * model.varianceAt(slot);
      }
    });
    const v0 = bq / icpt.precision;
    return k === undefined
      ? { mean: 0, variance: v0 + Math.min(plain, 1) * model.priorVariance }
      : { mean: icpt.mean * bs + mean, variance: v0 + variance };
  };

  /** Vectors with real-valued features, the bias anywhere (or twice, or not at all), as any client may send. */
  const vectors = (seed: number, count: number): SparseFeatures[] => {
    const rng = seededRng(seed);
    return Array.from({ length: count }, (_, k) => {
      const n = 1 + Math.floor(rng.next() * 120);
      const idx = Array.from({ length: n }, () => Math.floor(rng.next() * 2 ** bits));
      const val = idx.map(() => (rng.next() < 0.6 ? 1 : (rng.next() - 0.5) * 6));
      if (k % 3 !== 2) idx[Math.floor(rng.next() * n)] = bias;
      if (k % 5 === 0) idx[0] = bias;
      return { idx, val };
    });
  };

  it('gives, bit for bit, the by-definition score of every arm, in order (an unknown arm at the prior)', () => {
    const model = new LogisticRegression({ featureBits: bits, priorVariance: 1 });
    const arms = ['a', 'b', 'c', 'd'];
    const rng = seededRng(3);
    const train = vectors(1, 200);
    train.forEach((x, i) => model.update(arms[i % 3]!, x, rng.next() < 0.3 ? 1 : rng.next() < 0.5 ? 0.4 : 0));
    for (const x of [...vectors(2, 40), ...train.slice(0, 10)]) {
      const want = arms.map((a) => reference(model, a, x));
      expect(model.scoreAll(arms, x)).toEqual(want);
      arms.forEach((a, i) => expect(model.score(a, x)).toEqual(want[i]));
    }
    expect(model.scoreAll([], train[0]!)).toEqual([]);
  });

  it('notices a vector changed in place between calls', () => {
    const model = new LogisticRegression({ featureBits: bits, priorVariance: 1 });
    const x: SparseFeatures = { idx: [7, 8, bias], val: [1, 2, 1] };
    model.update('a', x, 1);
    expect(model.score('a', x)).toEqual(reference(model, 'a', x));
    x.val[1] = 3;
    expect(model.score('a', x)).toEqual(reference(model, 'a', x));
    x.idx[2] = 9; // the bias feature replaced by another
    expect(model.scoreAll(['a'], x)).toEqual([reference(model, 'a', x)]);
    x.val[0] = Number.NaN;
    expect(() => model.score('a', x)).toThrow(/val\[0\]/);
    x.val[0] = 1;
    x.idx.push(10);
    expect(() => model.score('a', x)).toThrow(/idx has 4/);
  });

  it('checks the features once, with the same errors as score', () => {
    const model = new LogisticRegression({ featureBits: bits, priorVariance: 1 });
    expect(() => model.scoreAll(['a', 'b'], { idx: [1, 2], val: [1, Number.NaN] })).toThrow(/val\[1\]/);
    expect(() => model.scoreAll(['a'], { idx: [2 ** bits], val: [1] })).toThrow(/featureBits/);
    expect(() => model.scoreAll(['a'], { idx: [1, 2], val: [1] })).toThrow(/idx has 2/);
    // A vector longer than any before grows the scratch space.
    const long = {
      idx: Array.from({ length: 3000 }, (_, i) => i),
      val: Array.from({ length: 3000 }, () => 0.5),
    };
    expect(model.scoreAll(['a'], long)).toEqual([reference(model, 'a', long)]);
  });
});
