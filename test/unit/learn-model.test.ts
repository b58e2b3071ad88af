import { describe, expect, it } from 'vitest';
import { BanditModel, hashFeatures, seededRng, type ModelSnapshot } from '../../src/learn/index.js';
import { NOTHING, type SparseFeatures } from '../../src/domain/decision.js';

const SETTINGS = { featureBits: 14, priorVariance: 1, minObservations: 5 };
const AT = Date.UTC(2026, 0, 5, 12);
const customer = (plan: string, orders: number, timeZone = 'UTC'): SparseFeatures =>
  hashFeatures(
    { traits: { plan }, computed: { orders }, segments: ['active'], at: AT, timeZone },
    SETTINGS.featureBits,
  );

const CONTEXTS = [customer('free', 0), customer('pro', 3), customer('pro', 40, 'Asia/Tokyo')];
const ARMS = ['welcome-email', 'discount-sms', NOTHING];

/** A model trained on seeded random data. */
const trained = (steps = 300): BanditModel => {
  const model = new BanditModel(SETTINGS);
  const rng = seededRng(17);
  for (let i = 0; i < steps; i++) {
    const x = CONTEXTS[Math.floor(rng.next() * CONTEXTS.length)] ?? CONTEXTS[0]!;
    const arm = ARMS[Math.floor(rng.next() * ARMS.length)] ?? NOTHING;
    model.update(arm, x, rng.next() < 0.2 ? 1 : rng.next() < 0.1 ? 0.3 : 0);
  }
  return model;
};

const roundTrip = (model: BanditModel): BanditModel =>
  BanditModel.fromSnapshot(JSON.parse(JSON.stringify(model.snapshot())));

describe('BanditModel', () => {
  it('uses the Beta estimate while an arm is young and the logistic model after minObservations', () => {
    const model = new BanditModel(SETTINGS);
    const x = CONTEXTS[1]!;
    expect(model.posterior('a', x)).toEqual({ model: 'beta', alpha: 1, beta: 1, observations: 0 });
    const rewards = [1, 0, 0.5, 0, 0];
    rewards.forEach((r, i) => {
      expect(model.posterior('a', x).model).toBe('beta');
      model.update('a', x, r);
      expect(model.observations('a')).toBe(i + 1);
    });
    const p = model.posterior('a', x);
    expect(p.model).toBe('logistic');
    expect(p.observations).toBe(5);
    // The Beta estimate kept learning all along: 1 + 1.5 successes, 1 + 3.5 failures.
    const young = new BanditModel({ ...SETTINGS, minObservations: 100 });
    rewards.forEach((r) => young.update('a', x, r));
    expect(young.posterior('a', x)).toEqual({ model: 'beta', alpha: 2.5, beta: 4.5, observations: 5 });
    // Other arms are untouched.
    expect(model.observations('b')).toBe(0);
  });

  it('learns "do nothing" like any other arm and counts every update in version', () => {
    const model = new BanditModel({ ...SETTINGS, minObservations: 0 });
    const x = CONTEXTS[0]!;
    const before = model.posterior(NOTHING, x);
    model.update(NOTHING, x, 1);
    model.update('a', x, 0);
    expect(model.observations(NOTHING)).toBe(1);
    expect(model.version).toBe(2);
    const after = model.posterior(NOTHING, x);
    expect(after.model === 'logistic' && before.model === 'logistic' && after.mean > before.mean).toBe(true);
  });

  it('posteriors(arms, x) is posterior(arm, x) for each arm, Beta and logistic alike', () => {
    const model = trained();
    const arms = [...ARMS, 'never-seen', ARMS[0]!];
    for (const x of CONTEXTS)
      expect(model.posteriors(arms, x)).toEqual(arms.map((a) => model.posterior(a, x)));
    expect(new Set(model.posteriors(arms, CONTEXTS[0]!).map((p) => p.model))).toEqual(
      new Set(['beta', 'logistic']),
    );
    expect(model.posteriors([], CONTEXTS[0]!)).toEqual([]);
    // Like posterior(), features are only checked when an arm is on the logistic model.
    const bad = { idx: [2 ** 14], val: [1] };
    expect(model.posteriors(['never-seen'], bad)).toEqual([model.posterior('never-seen', bad)]);
    expect(() => model.posteriors(['never-seen', ARMS[0]!], bad)).toThrow(/featureBits/);
  });

  it('rejects a bad update without changing anything', () => {
    const model = trained(50);
    const snap = JSON.stringify(model.snapshot());
    expect(() => model.update('a', CONTEXTS[0]!, Number.NaN)).toThrow(/reward/);
    expect(() => model.update('a', CONTEXTS[0]!, 2)).toThrow(/reward/);
    expect(() => model.update('a', { idx: [2 ** 14], val: [1] }, 1)).toThrow(/featureBits/);
    expect(JSON.stringify(model.snapshot())).toBe(snap);
  });

  it('rejects bad settings', () => {
    expect(() => new BanditModel({ ...SETTINGS, featureBits: 25 })).toThrow(/featureBits/);
    expect(() => new BanditModel({ ...SETTINGS, minObservations: -1 })).toThrow(/minObservations/);
    expect(() => new BanditModel({ ...SETTINGS, priorVariance: Number.NaN })).toThrow(/priorVariance/);
  });
});

describe('BanditModel snapshots', () => {
  it('survive JSON and give identical posteriors, then learn identically', () => {
    const model = trained();
    const copy = roundTrip(model);
    expect(copy.version).toBe(model.version);
    expect(copy.settings).toEqual(model.settings);
    expect(copy.settingsMatch({ ...SETTINGS, propensitySamples: 64 } as typeof SETTINGS)).toBe(true);
    expect(copy.settingsMatch({ ...SETTINGS, featureBits: 15 })).toBe(false);
    for (const arm of [...ARMS, 'never-seen']) {
      expect(copy.observations(arm)).toBe(model.observations(arm));
      for (const x of CONTEXTS) expect(copy.posterior(arm, x)).toEqual(model.posterior(arm, x));
    }
    model.update('discount-sms', CONTEXTS[2]!, 1);
    copy.update('discount-sms', CONTEXTS[2]!, 1);
    expect(copy.posterior('discount-sms', CONTEXTS[2]!)).toEqual(
      model.posterior('discount-sms', CONTEXTS[2]!),
    );
    expect(copy.snapshot()).toEqual(model.snapshot());
  });

  it('hold only what moved from the prior', () => {
    const fresh = new BanditModel(SETTINGS).snapshot();
    expect(fresh).toEqual({
      format: 2,
      settings: SETTINGS,
      version: 0,
      arms: [],
      weights: { slot: [], mean: [], variance: [] },
    });
    const model = new BanditModel(SETTINGS);
    model.update('a', CONTEXTS[0]!, 1);
    const s = model.snapshot();
    // Every feature but the bias (kept as the arm's intercept) moved one slot.
    expect(s.weights.slot.length).toBe(CONTEXTS[0]!.idx.length - 1);
    expect(s.arms).toEqual([
      {
        id: 'a',
        index: 0,
        alpha: 2,
        beta: 1,
        observations: 1,
        intercept: expect.objectContaining({ mean: expect.any(Number) }),
      },
    ]);
    expect(JSON.stringify(s).length).toBeLessThan(1000);
  });

  it('refuses a corrupted snapshot, naming the field', () => {
    const good = JSON.parse(JSON.stringify(trained(30).snapshot())) as ModelSnapshot;
    const bad = (edit: (s: ModelSnapshot) => void): unknown => {
      const s = structuredClone(good);
      edit(s);
      return JSON.parse(JSON.stringify(s));
    };
    const cases: Array<[unknown, RegExp]> = [
      [null, /invalid model snapshot/],
      [bad((s) => Object.assign(s, { format: 1 })), /format/],
      [bad((s) => s.weights.mean.pop()), /weights: slot, mean and variance must have the same length/],
      [bad((s) => (s.weights.slot[0] = 2 ** 14)), /weights\.slot\[0\]: 16384 is outside/],
      [bad((s) => (s.weights.mean[1] = Number.NaN)), /weights\.mean\[1\]/], // NaN becomes null in JSON
      [bad((s) => (s.weights.variance[0] = 0)), /weights\.variance\[0\]/],
      [bad((s) => (s.arms[1]!.index = s.arms[0]!.index)), /arms\[1\]\.index: index \d+ is taken/],
      [bad((s) => s.weights.slot.reverse()), /ascending/],
      [bad((s) => (s.arms[0]!.alpha = 0.5)), /arms\[0\]\.alpha/],
      [bad((s) => s.arms.push(s.arms[0]!)), /duplicate arm/],
      [bad((s) => (s.settings.featureBits = 99)), /settings\.featureBits/],
      [bad((s) => Object.assign(s, { extra: true })), /extra/],
    ];
    for (const [input, message] of cases) expect(() => BanditModel.fromSnapshot(input)).toThrow(message);
  });
});
