import { describe, expect, it } from 'vitest';
import {
  ActionValues,
  ReplayLearning,
  greedyPolicy,
  Moments,
  RunningRewardModel,
  Snips,
  WeightedMoments,
  Z95,
  always,
  evaluateOffPolicy,
  onPolicyValue,
  recordProblem,
  replayValue,
  uniform,
  type Distribution,
  type Estimate,
  type LoggedRecord,
} from '../../src/learn/ope/index.js';
import { BanditModel, hashFeatures, seededRng } from '../../src/learn/index.js';
import type { SparseFeatures } from '../../src/domain/index.js';

/**
 * The estimators against values worked out by hand on a four-row log with two actions (the arithmetic is in the
 * comments), then a shared sanity check on synthetic data with a known true value.
 */
const LOG: LoggedRecord<null>[] = [
  { action: 0, reward: 1, propensity: 0.5, context: null },
  { action: 1, reward: 0, propensity: 0.25, context: null },
  { action: 0, reward: 0, propensity: 0.5, context: null },
  { action: 1, reward: 1, propensity: 0.75, context: null },
];

const expectInterval = (e: Estimate, value: number, se: number, n: number): void => {
  expect(e.value).toBeCloseTo(value, 12);
  expect(e.ciLow).toBeCloseTo(value - Z95 * se, 12);
  expect(e.ciHigh).toBeCloseTo(value + Z95 * se, 12);
  expect(e.n).toBe(n);
};

/** Sample standard error of the mean of `xs`, by the textbook two-pass formula. */
const se = (xs: number[]): number => {
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  const v = xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1);
  return Math.sqrt(v / xs.length);
};

describe('offline estimators on a hand-computed log', () => {
  it('on-policy mean: (1 + 0 + 0 + 1) / 4, se = √((1/3) / 4)', () => {
    expectInterval(onPolicyValue(LOG), 0.5, Math.sqrt(1 / 12), 4);
  });

  it('always action 0: weights 2, 0, 2, 0', () => {
    const e = evaluateOffPolicy(LOG, always(0));
    // IPS terms w·r = 2, 0, 0, 0: mean 0.5, sample variance 1.
    expectInterval(e.ips, 0.5, 0.5, 4);
    // SNIPS = Σwr / Σw = 2 / 4; se² = Σw²(r − 0.5)² / (Σw)² = (4·0.25 + 4·0.25) / 16.
    expectInterval(e.snips, 0.5, Math.sqrt(2 / 16), 4);
    // DR with q̂ from earlier rows (q̂(a) = (S_a + ḡ) / (n_a + 1)):
    // row 1: q̂ = 0, term 0 + 2(1 − 0) = 2; row 2: q̂(0) = (1 + 1)/2 = 1, w = 0, term 1;
    // row 3: ḡ = 1/2, q̂(0) = 1.5/2 = 0.75, term 0.75 + 2(0 − 0.75) = −0.75; row 4: ḡ = 1/3, q̂(0) = (4/3)/3.
    const terms = [2, 1, -0.75, 4 / 9];
    expectInterval(e.dr, (2 + 1 - 0.75 + 4 / 9) / 4, se(terms), 4);
  });

  it('uniform over two actions: weights 1, 2, 1, 2/3', () => {
    const e = evaluateOffPolicy(LOG, uniform(2));
    expectInterval(e.ips, 5 / 12, se([1, 0, 0, 2 / 3]), 4);
    // Σwr = 5/3, Σw = 14/3.
    const v = 5 / 14;
    const num = 1 * (1 - v) ** 2 + 4 * v ** 2 + 1 * v ** 2 + (4 / 9) * (1 - v) ** 2;
    expectInterval(e.snips, v, Math.sqrt(num) / (14 / 3), 4);
    // row 1: 0 + 1(1 − 0) = 1; row 2: mean q̂ = 1, 1 + 2(0 − 1) = −1;
    // row 3: q̂ = (0.75, 0.25), 0.5 + 1(0 − 0.75) = −0.25; row 4: q̂ = (4/9, 1/6), 11/36 + (2/3)(1 − 1/6) = 31/36.
    const terms = [1, -1, -0.25, 31 / 36];
    expectInterval(e.dr, 11 / 72, se(terms), 4);
  });

  it('a dense distribution gives what the equivalent point and uniform shapes give', () => {
    const dense = (probs: number[]) => (): Distribution => ({ kind: 'dense', probs });
    expect(evaluateOffPolicy(LOG, dense([1, 0]))).toEqual(evaluateOffPolicy(LOG, always(0)));
    const a = evaluateOffPolicy(LOG, dense([0.5, 0.5]));
    const b = evaluateOffPolicy(LOG, uniform(2));
    for (const k of ['ips', 'snips', 'dr'] as const) expect(a[k].value).toBeCloseTo(b[k].value, 12);
  });

  it('replay of "always 0": rows 1 and 3 match, rewards 1 and 0', () => {
    expectInterval(
      replayValue(LOG, () => 0),
      0.5,
      0.5,
      2,
    );
    // A policy that never agrees with the log has no estimate.
    expect(replayValue(LOG, () => 5).value).toBeNaN();
  });

  it('per-action values equal the "always a" estimates, for an action that appears late too', () => {
    const values = new ActionValues();
    const q = new RunningRewardModel();
    for (const r of LOG) {
      values.add(r, q);
      q.learn(r.action, r.reward);
    }
    expect(values.size).toBe(2);
    expect(values.estimates(0)).toEqual(evaluateOffPolicy(LOG, always(0)));
    expect(values.estimates(1)).toEqual(evaluateOffPolicy(LOG, always(1)));
    // Always 1 by hand: IPS terms 0, 0, 0, 4/3; DR terms 0, 1 + 4(0 − 1), 0.25, 1/6 + (4/3)(5/6).
    expect(values.estimates(1).ips.value).toBeCloseTo(1 / 3, 12);
    expect(values.estimates(1).dr.value).toBeCloseTo((0 - 3 + 0.25 + 23 / 18) / 4, 12);
  });

  it('the logging policy evaluated on its own log is the on-policy mean exactly', () => {
    // A uniform logging policy over 34 actions: every weight is (1/34) / (1/34) = 1.
    const rng = seededRng(3);
    const log: LoggedRecord<null>[] = Array.from({ length: 10_000 }, () => ({
      action: Math.floor(rng.next() * 34),
      reward: rng.next() < 0.0046 ? 1 : 0,
      propensity: 1 / 34,
      context: null,
    }));
    const clicks = log.filter((r) => r.reward === 1).length;
    const e = evaluateOffPolicy(log, uniform(34));
    expect(onPolicyValue(log).value).toBe(clicks / 10_000);
    expect(e.ips.value).toBe(clicks / 10_000);
    expect(e.snips.value).toBe(clicks / 10_000);
    expect(e.dr.value).toBeCloseTo(clicks / 10_000, 3);
  });
});

describe('streaming moments', () => {
  it('Welford matches the two-pass variance, and the mean is sum / n', () => {
    const xs = [1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16];
    const m = new Moments();
    for (const x of xs) m.add(x);
    expect(m.mean).toBe((1e9 + 4 + 1e9 + 7 + 1e9 + 13 + 1e9 + 16) / 4);
    expect(m.variance).toBeCloseTo(30, 9);
    expect(Moments.zeros(3).copy().variance).toBe(0);
    expect(new Moments().mean).toBeNaN();
  });

  it('West weighted moments: Σw(x − c)² for any centre', () => {
    const w = new WeightedMoments();
    w.add(1, 2);
    w.add(3, 1);
    w.add(5, 0);
    expect(w.mean).toBeCloseTo(5 / 3, 12);
    expect(w.squaresAround(0)).toBeCloseTo(2 * 1 + 1 * 9, 12);
    expect(w.squaresAround(w.mean)).toBeCloseTo(2 * (4 / 9) + 16 / 9, 12);
  });

  it('SNIPS without a positive weight has no value; one weighted row has no interval', () => {
    const s = new Snips();
    s.add(0, 1);
    expect(s.estimate().value).toBeNaN();
    s.add(3, 1);
    expect(s.estimate()).toMatchObject({ value: 1, n: 2 });
    expect(s.estimate().ciLow).toBe(1);
  });
});

describe('the reward model learns from earlier rows only', () => {
  it('predicts the overall mean for unseen actions and shrinks seen ones toward it', () => {
    const q = new RunningRewardModel();
    expect(q.of(3)).toBe(0);
    q.learn(0, 1);
    q.learn(0, 1);
    q.learn(2, 0);
    // ḡ = 2/3; q̂(0) = (2 + 2/3)/3, q̂(1) = ḡ, q̂(2) = (0 + 2/3)/2.
    expect(q.of(0)).toBeCloseTo(8 / 9, 12);
    expect(q.of(1)).toBeCloseTo(2 / 3, 12);
    expect(q.of(2)).toBeCloseTo(1 / 3, 12);
    const mean4 = (8 / 9 + 2 / 3 + 1 / 3 + 2 / 3) / 4;
    expect(q.meanOfFirst(4)).toBeCloseTo(mean4, 12);
    expect(q.meanOfFirst(2)).toBeCloseTo((8 / 9 + 2 / 3) / 2, 12);
  });
});

describe('every estimator on the same table', () => {
  it('rejects bad records at the boundary, naming the field', () => {
    const bad: Array<[Partial<LoggedRecord<null>>, string]> = [
      [{ propensity: 0 }, 'propensity'],
      [{ propensity: 1.5 }, 'propensity'],
      [{ propensity: NaN }, 'propensity'],
      [{ reward: Infinity }, 'reward'],
      [{ reward: NaN }, 'reward'],
      [{ action: -1 }, 'action'],
      [{ action: 0.5 }, 'action'],
    ];
    for (const [change, field] of bad) {
      expect(recordProblem({ action: 0, reward: 1, propensity: 0.5, ...change })?.field).toBe(field);
    }
    expect(recordProblem({ action: 0, reward: 1, propensity: 1 })).toBeUndefined();
  });

  it('recover a known policy value on synthetic logged data, within their intervals', () => {
    // Context x ∈ {0, 1}; 3 actions with reward probability P[x][a]; logging favours action 0 in context 0.
    const P = [
      [0.1, 0.3, 0.5],
      [0.6, 0.2, 0.1],
    ];
    const logging = [
      [0.6, 0.3, 0.1],
      [0.2, 0.4, 0.4],
    ];
    const target = (x: number): Distribution => ({ kind: 'dense', probs: x === 0 ? [0, 0, 1] : [1, 0, 0] });
    const truth = 0.5 * 0.5 + 0.5 * 0.6;
    const rng = seededRng(11);
    const log: LoggedRecord<number>[] = [];
    for (let i = 0; i < 20_000; i++) {
      const x = rng.next() < 0.5 ? 0 : 1;
      const u = rng.next();
      const probs = logging[x] as number[];
      const a = u < (probs[0] as number) ? 0 : u < (probs[0] as number) + (probs[1] as number) ? 1 : 2;
      const reward = rng.next() < ((P[x] as number[])[a] as number) ? 1 : 0;
      log.push({ action: a, reward, propensity: probs[a] as number, context: x });
    }
    const e = evaluateOffPolicy(log, target);
    for (const k of ['ips', 'snips', 'dr'] as const) {
      expect(e[k].ciLow, k).toBeLessThan(truth);
      expect(e[k].ciHigh, k).toBeGreaterThan(truth);
      expect(Math.abs(e[k].value - truth), k).toBeLessThan(0.03);
    }
    // The logging policy's own value is the on-policy mean.
    const loggingValue = onPolicyValue(log);
    const expected = [0, 1].reduce(
      (s, x) =>
        s + 0.5 * (logging[x] as number[]).reduce((t, p, a) => t + p * ((P[x] as number[])[a] as number), 0),
      0,
    );
    expect(loggingValue.ciLow).toBeLessThan(expected);
    expect(loggingValue.ciHigh).toBeGreaterThan(expected);
  });
});

describe('the engine’s learning policy, evaluated offline (seeded)', () => {
  // Two customer segments, three actions, uniform logging: the best action is 2 for segment a, 0 for b.
  const P: Record<string, number[]> = { a: [0.1, 0.3, 0.6], b: [0.6, 0.2, 0.1] };
  const BEST = 0.6;
  const UNIFORM = (0.1 + 0.3 + 0.6 + 0.6 + 0.2 + 0.1) / 6;
  const ARMS = ['x', 'y', 'z'];
  const settings = { featureBits: 10, priorVariance: 1, minObservations: 20 };
  const features = (segment: string) =>
    hashFeatures(
      { traits: {}, computed: {}, segments: [], context: { segment }, at: 0 },
      settings.featureBits,
    );
  const uniformLog = (rows: number, seed: number): LoggedRecord<SparseFeatures>[] => {
    const rng = seededRng(seed);
    const x = { a: features('a'), b: features('b') };
    return Array.from({ length: rows }, () => {
      const segment = rng.next() < 0.5 ? 'a' : 'b';
      const action = Math.floor(rng.next() * 3);
      const reward = rng.next() < (P[segment]?.[action] as number) ? 1 : 0;
      return { action, reward, propensity: 1 / 3, context: x[segment] };
    });
  };

  it('split: the greedy policy trained on one log is worth about the best value on another', () => {
    const model = new BanditModel(settings);
    for (const r of uniformLog(6000, 1)) model.update(ARMS[r.action] as string, r.context, r.reward);
    const policy = greedyPolicy(model, ARMS);
    expect(policy(features('a'))).toEqual({ kind: 'point', action: 2 });
    expect(policy(features('b'))).toEqual({ kind: 'point', action: 0 });
    const e = evaluateOffPolicy(uniformLog(6000, 2), policy);
    for (const k of ['ips', 'snips', 'dr'] as const) {
      expect(e[k].ciLow, k).toBeLessThan(BEST);
      expect(e[k].ciHigh, k).toBeGreaterThan(BEST);
    }
  });

  it('replay: Thompson sampling learns from the matched rows and beats uniform; the same seed replays exactly', () => {
    const log = uniformLog(30_000, 3);
    const run = (seed: number) => {
      const replay = new ReplayLearning(new BanditModel(settings), seededRng(seed));
      for (const r of log) replay.add(r, ARMS);
      return replay.estimate();
    };
    const a = run(5);
    expect(run(5)).toEqual(a);
    // About a third of the rows match a uniform log of three actions.
    expect(a.n).toBeGreaterThan(9000);
    expect(a.n).toBeLessThan(11_000);
    expect(a.ciLow).toBeGreaterThan(UNIFORM + 0.1);
    expect(a.value).toBeLessThan(BEST + 0.02);
  });
});
