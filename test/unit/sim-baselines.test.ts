import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { seededRng } from '../../src/learn/index.js';
import {
  baselines,
  createWorld,
  differenceEstimate,
  meanEstimate,
  noAction,
  parseScenario,
  rateEstimate,
  runPolicy,
  shareOf,
  staticJourney,
  summarize,
  uniformRandom,
  type DecisionPoint,
} from '../../src/sim/index.js';

const shop = parseScenario(
  readFileSync(new URL('../../examples/sim/shop/scenario.yaml', import.meta.url), 'utf8'),
);

describe('baseline policies', () => {
  const world = createWorld(shop, { customers: 3000 });
  const point = (over: Partial<DecisionPoint> = {}): DecisionPoint => ({
    customer: world.customer(0),
    hidden: world.hidden(world.customer(0), world.start),
    at: world.start,
    candidates: Object.keys(shop.actions),
    sent: 0,
    ...over,
  });

  it('return a choice with its probability', () => {
    expect(noAction.choose(point(), seededRng(1))).toEqual({ actionId: null, probability: 1 });
    const u = uniformRandom.choose(point(), seededRng(1));
    expect(u.probability).toBeCloseTo(1 / 5);
    const journey = staticJourney(shop.staticJourney);
    expect(journey.choose(point(), seededRng(1)).actionId).toBe(shop.staticJourney[0]);
    expect(journey.choose(point({ sent: 1 }), seededRng(1)).actionId).toBe(shop.staticJourney[1]);
    expect(journey.choose(point({ sent: 5 }), seededRng(1)).actionId).toBeNull();
  });

  it('uniform random covers every option evenly', () => {
    const rng = seededRng(2);
    const counts = new Map<string | null, number>();
    for (let i = 0; i < 10_000; i++) {
      const a = uniformRandom.choose(point(), rng).actionId;
      counts.set(a, (counts.get(a) ?? 0) + 1);
    }
    expect(counts.size).toBe(5);
    for (const n of counts.values()) expect(n / 10_000).toBeCloseTo(0.2, 1);
  });

  it('runs are reproducible with a seed; no action sends nothing', () => {
    const b = baselines(shop);
    const once = runPolicy(world, b.random!, 9);
    expect(runPolicy(world, b.random!, 9)).toEqual(once);
    expect(runPolicy(world, b.none!, 9).every((o) => o.path.length === 0)).toBe(true);
  });

  it('on the shop, the oracle beats the static journey, which beats no action', () => {
    const world = createWorld(shop, { customers: 20_000 });
    const b = baselines(shop);
    const none = runPolicy(world, b.none!, 1);
    const sum = (k: string) => summarize(runPolicy(world, b[k]!, 1), { windows: 5, none });
    const oracle = sum('oracle');
    const fixed = sum('static');
    expect(oracle.incremental!.ciLow).toBeGreaterThan(fixed.incremental!.ciHigh);
    expect(fixed.conversion.value).toBeGreaterThan(summarize(none, { windows: 1 }).conversion.value);
    expect(shareOf(fixed, oracle)).toBeLessThan(0.5);
    // The oracle leaves the customers whom messages put off alone.
    expect(oracle.byPersona.do_not_disturb!.conversion).toBeGreaterThan(
      fixed.byPersona.do_not_disturb!.conversion,
    );
    expect(oracle.paths.find((p) => p.persona === 'do_not_disturb')?.path).toBe('(nothing)');
  });
});

describe('stats', () => {
  it('Wilson interval of a rate', () => {
    const e = rateEstimate(50, 1000);
    expect(e.value).toBe(0.05);
    expect(e.ciLow).toBeCloseTo(0.0381, 3);
    expect(e.ciHigh).toBeCloseTo(0.0653, 3);
    expect(rateEstimate(0, 100).ciLow).toBe(0);
    expect(rateEstimate(0, 0)).toEqual({ value: 0, ciLow: 0, ciHigh: 0, n: 0 });
  });

  it('mean and difference of means with 95% intervals', () => {
    const m = meanEstimate([1, 2, 3, 4]);
    expect(m.value).toBe(2.5);
    expect(m.ciHigh - m.value).toBeCloseTo(1.959964 * Math.sqrt(5 / 3 / 4), 6);
    const d = differenceEstimate([1, 1, 1, 0], [0, 0, 1, 0]);
    expect(d.value).toBeCloseTo(0.5);
    expect(d.ciLow).toBeLessThan(0.5);
    expect(d.ciHigh).toBeGreaterThan(0.5);
  });

  it('summaries: learning curve windows, paths and personas', () => {
    const outcomes = [
      { index: 0, persona: 'a', converted: true, value: 10, cost: 1, path: ['x'], by: 'x' },
      { index: 1, persona: 'a', converted: false, value: 0, cost: 1, path: ['x'], by: null },
      { index: 2, persona: 'b', converted: false, value: 0, cost: 0, path: [], by: null },
      { index: 3, persona: 'b', converted: true, value: 20, cost: 0, path: [], by: 'organic' },
    ];
    const s = summarize(outcomes, { windows: 2 });
    expect(s.curve.map((w) => [w.from, w.to, w.conversion.value])).toEqual([
      [0, 2, 0.5],
      [2, 4, 0.5],
    ]);
    expect(s.revenue.value).toBe(7.5);
    expect(s.cost).toBe(0.5);
    expect(s.byPersona.a).toEqual({ n: 2, conversion: 0.5, revenue: 5 });
    expect(s.paths).toContainEqual({ persona: 'b', path: '(nothing)', n: 2, conversion: 0.5 });
  });
});
