import { describe, expect, it } from 'vitest';
import { seededRng } from '../../src/learn/index.js';
import {
  conversionChance,
  createWorld,
  inActiveHours,
  messageOdds,
  organicSurvives,
  parseScenario,
  planMessage,
  planOrganic,
} from '../../src/sim/index.js';
import { MINI } from '../helpers/sim-scenario.js';

const s = parseScenario(MINI);
// Many customers: the drift (at half the arrivals) comes long after the times used here.
const world = createWorld(s, { customers: 1_000_000 });
const personaA = Array.from({ length: 200 }, (_, i) => world.customer(i)).find((c) => c.persona === 'a')!;
const NOON = Date.parse('2026-11-02T12:00:00Z');
const NIGHT = Date.parse('2026-11-02T03:00:00Z');

describe('the response model', () => {
  it('active hours, also across midnight', () => {
    expect(inActiveHours(12, [8, 20])).toBe(true);
    expect(inActiveHours(20, [8, 20])).toBe(false);
    expect(inActiveHours(23, [20, 2])).toBe(true);
    expect(inActiveHours(1, [20, 2])).toBe(true);
    expect(inActiveHours(2, [20, 2])).toBe(false);
  });

  it('opens follow channel affinity, send hour and fatigue; clicks the interest; orders the discount', () => {
    const h = world.hidden(personaA, NOON);
    const mail = s.actions.mail!;
    const text = s.actions.text!;
    expect(messageOdds(h, mail, NOON, 1, s.response, 'shoes')).toEqual({
      open: 0.5,
      click: 0.4,
      convert: 0.4,
    });
    // Outside active hours: × offHours (0.3).
    expect(messageOdds(h, mail, NIGHT, 1, s.response, 'shoes').open).toBeCloseTo(0.15);
    // The third message: × (1 − 0.25)².
    expect(messageOdds(h, mail, NOON, 3, s.response, 'shoes').open).toBeCloseTo(0.5 * 0.75 ** 2);
    // Another category than the one browsed: no interest in it.
    expect(messageOdds(h, mail, NOON, 1, s.response, 'bags').click).toBe(0);
    // Generic content, 20% off for a half price-sensitive customer: 0.4 × (1 + 0.2 × 2 × 0.5).
    const o = messageOdds(h, text, NOON, 1, s.response, 'shoes');
    expect(o).toEqual({ open: 0.2, click: 0.15, convert: 0.4 * 1.2 });
    expect(conversionChance(o)).toBeCloseTo(0.2 * 0.15 * 0.48);
  });

  it('draws reactions with the modelled frequencies, in order (open → click → order), reproducibly', () => {
    const c = { ...personaA, category: 'shoes' };
    const rng = seededRng(11);
    let opened = 0;
    let ordered = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const p = planMessage(world, c, s.actions.mail!, NOON, 1, rng);
      if (p.openAt !== undefined) {
        opened++;
        expect(p.openAt).toBeGreaterThanOrEqual(NOON);
      }
      if (p.convertAt !== undefined) {
        ordered++;
        expect(p.convertAt).toBeGreaterThanOrEqual(p.clickAt!);
        expect(p.clickAt).toBeGreaterThanOrEqual(p.openAt!);
      }
    }
    expect(opened / n).toBeCloseTo(0.5, 1);
    expect(ordered / n).toBeCloseTo(0.5 * 0.4 * 0.4, 2);
    const again = (seed: number) => planMessage(world, c, s.actions.mail!, NOON, 1, seededRng(seed));
    expect(again(5)).toEqual(again(5));
  });

  it('organic orders happen at the base rate within the horizon, and fatigue puts customers off', () => {
    let orders = 0;
    let afterTwo = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const plan = planOrganic(world, personaA, seededRng(1000 + i));
      if (plan.at === undefined) continue;
      orders++;
      expect(plan.at - personaA.arrivesAt).toBeLessThanOrEqual(s.timing.horizon);
      if (organicSurvives(world, personaA, plan, 2)) afterTwo++;
    }
    expect(orders / n).toBeCloseTo(0.1, 1);
    // Two messages before it: the order survives with (1 − 0.25)².
    expect(afterTwo / orders).toBeCloseTo(0.5625, 1);
  });
});
