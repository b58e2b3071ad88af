import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { compileCatalog, decide } from '../../src/decide/index.js';
import { BanditModel, hashFeatures, seededRng } from '../../src/learn/index.js';
import { NOTHING } from '../../src/domain/index.js';

/**
 * A small built-in scenario: three kinds of customer, two banners. Young customers convert best with banner A,
 * older ones with banner B, and loyal customers convert as often without any banner as with one — so, with a
 * cost per impression (15% of the goal's value), every banner's expected value is below doing nothing for them.
 */
const TRUTH: Record<string, Record<string, number>> = {
  young: { [NOTHING]: 0.05, a: 0.35, b: 0.08 },
  old: { [NOTHING]: 0.05, a: 0.07, b: 0.3 },
  loyal: { [NOTHING]: 0.45, a: 0.45, b: 0.44 },
};
const KINDS = Object.keys(TRUTH);

const CONFIG = `
goal: { event: Order Completed, value: 10 }
placements: [{ id: home }]
holdout: { share: 0 }
exploration: { min: 0.02, max: 0.3 }
model: { featureBits: 14, minObservations: 30 }
actions:
  - { id: a, channel: web, status: approved, cost: 1.5, trigger: { placements: [home] } }
  - { id: b, channel: web, status: approved, cost: 1.5, trigger: { placements: [home] } }
`;

describe('learning curve (fixed seed)', () => {
  it('learns the best action per kind of customer, and leaves alone those no action helps', () => {
    const r = parseConfig(CONFIG);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const catalog = compileCatalog(r.config);
    const model = new BanditModel(r.config.model);
    const rng = seededRng(20261125);
    const world = seededRng(99);
    const at = Date.parse('2026-11-25T12:00:00Z');
    const step = (kind: string, i: number, greedyOnly = false) => {
      const traits = { kind };
      const features = hashFeatures({ traits, computed: {}, segments: [], at }, r.config.model.featureBits);
      return decide(
        {
          id: `d${i}`,
          profile: { id: `c${i}`, traits, segments: [] },
          computed: {},
          signal: { kind: 'placement', placement: 'home', context: {} },
          features,
          history: { sends: [], sentToday: new Map() },
        },
        {
          catalog: greedyOnly ? { ...catalog, exploration: { min: 0, max: 0 } } : catalog,
          model,
          rng,
          now: at,
          attributionWindow: 1,
        },
      );
    };
    const best: Record<string, string | null> = { young: 'a', old: 'b', loyal: null };
    const rounds = 8000;
    let lateRight = 0;
    let lateN = 0;
    for (let i = 0; i < rounds; i++) {
      const kind = KINDS[i % KINDS.length] as string;
      const d = step(kind, i);
      const arm = d.actionId ?? NOTHING;
      const converted = world.next() < (TRUTH[kind]?.[arm] ?? 0) ? 1 : 0;
      model.update(arm, d.features, converted);
      if (i >= rounds - 1500) {
        lateN++;
        if (d.actionId === best[kind]) lateRight++;
      }
    }
    // After enough feedback the greedy choice is right for every kind...
    for (const kind of KINDS) expect(step(kind, rounds + 1, true).actionId).toBe(best[kind]);
    // ...and most live decisions (exploration included) are already the right one.
    expect(lateRight / lateN).toBeGreaterThan(0.75);
    // The estimates are calibrated: young customers' P(goal | a) near the truth.
    const young = step('young', rounds + 2, true);
    const a = young.explanation.candidates.find((c) => c.actionId === 'a')?.score;
    expect(a?.probability).toBeGreaterThan(0.27);
    expect(a?.probability).toBeLessThan(0.43);
  });
});
