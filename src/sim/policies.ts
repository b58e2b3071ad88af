import type { Rng } from '../learn/index.js';
import { conversionChance, messageOdds } from './response.js';
import type { Hidden, Scenario } from './scenario.js';
import type { SimCustomer } from './world.js';

/** One moment a policy chooses for one customer: on arrival (step 0) or after an unanswered message. */
export interface DecisionPoint {
  customer: SimCustomer;
  /** The customer's hidden preferences now: only the oracle may look. */
  hidden: Hidden;
  at: number;
  /** Actions not tried yet for this customer. */
  candidates: readonly string[];
  /** Messages the customer got so far. */
  sent: number;
}

/** A choice with the probability the policy had of making it (zr-obp's seam: never a bare action). */
export interface Choice {
  actionId: string | null;
  probability: number;
}

/** A baseline policy, pure: a decision point and a seeded Rng in, a choice out. */
export interface Policy {
  name: string;
  choose(point: DecisionPoint, rng: Rng): Choice;
}

export const noAction: Policy = { name: 'no action', choose: () => ({ actionId: null, probability: 1 }) };

/** Uniform over the untried actions and doing nothing. */
export const uniformRandom: Policy = {
  name: 'uniform random',
  choose: (p, rng) => {
    const options = [null, ...p.candidates];
    const i = Math.min(options.length - 1, Math.floor(rng.next() * options.length));
    return { actionId: options[i] ?? null, probability: 1 / options.length };
  },
};

/** The journey someone would draw by hand: the same sequence for everyone, the next step after no response. */
export const staticJourney = (journey: readonly string[]): Policy => ({
  name: 'static journey',
  choose: (p) => {
    const next = journey[p.sent];
    return { actionId: next !== undefined && p.candidates.includes(next) ? next : null, probability: 1 };
  },
});

/**
 * The oracle knows each customer's hidden preferences and picks the action with the highest expected value
 * now: P(order | message) × its value, plus the organic order it leaves standing, minus the send's cost, against
 * the organic order alone; doing nothing when no message beats it. Greedy per decision point.
 */
export const oracle = (scenario: Scenario): Policy => ({
  name: 'oracle',
  choose: (p) => {
    const h = p.hidden;
    const stay = (1 - h.fatigue) ** p.sent;
    const nothingValue = h.baseRate * stay * h.orderValue;
    let best: string | null = null;
    let bestValue = nothingValue;
    for (const id of p.candidates) {
      const action = scenario.actions[id];
      if (action === undefined) continue;
      const chance = conversionChance(
        messageOdds(h, action, p.at, p.sent + 1, scenario.response, p.customer.category),
      );
      const organic = h.baseRate * stay * (1 - h.fatigue);
      const value =
        chance * h.orderValue * (1 - action.discount) + (1 - chance) * organic * h.orderValue - action.cost;
      if (value > bestValue) {
        best = id;
        bestValue = value;
      }
    }
    return { actionId: best, probability: 1 };
  },
});

/** The four baselines of a scenario, by key. */
export const baselines = (scenario: Scenario): Record<string, Policy> => ({
  static: staticJourney(scenario.staticJourney),
  random: uniformRandom,
  none: noAction,
  oracle: oracle(scenario),
});
