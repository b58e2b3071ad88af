import { describe, expect, it } from 'vitest';
import {
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
