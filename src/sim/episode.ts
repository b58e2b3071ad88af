import { seededRng, type Rng } from '../learn/index.js';
import type { Policy } from './policies.js';
import { organicSurvives, planMessage, planOrganic, type MessagePlan } from './response.js';
import { streamSeed, type SimCustomer, type World } from './world.js';

/** What happened to one customer under one policy, within their horizon. */
export interface Outcome {
  index: number;
  persona: string;
  converted: boolean;
  /** The order's value (0 without an order). */
  value: number;
  /** What the messages cost. */
  cost: number;
  /** The actions the customer received, in order. */
  path: string[];
  /** What led to the order: an action id, `organic`, or null. */
  by: string | null;
}

/**
 * One customer's journey under a baseline policy, in simulated time, with the product's rules of the loop: a
 * decision on arrival; a message gets its response window; with no open, click or order in it, the policy decides
 * again among the actions not tried yet (at most `maxFallbacks` times); doing nothing, an order or the end of
 * the horizon ends the chain. Responses come from the customer's own stream (common random numbers).
 */
export const runEpisode = (world: World, c: SimCustomer, policy: Policy, policyRng: Rng): Outcome => {
  const s = world.scenario;
  const rng = seededRng(streamSeed(world.seed, c.index, 1));
  const organic = planOrganic(world, c, rng);
  const horizonEnd = c.arrivesAt + s.timing.horizon;
  const sent: Array<{ actionId: string; at: number; plan: MessagePlan }> = [];
  /** The first order at or before `t`, given the messages sent so far. */
  const orderBy = (t: number): { at: number; value: number; by: string } | undefined => {
    let first: { at: number; value: number; by: string } | undefined;
    for (const m of sent) {
      const at = m.plan.convertAt;
      if (at !== undefined && at <= t && (first === undefined || at < first.at))
        first = { at, value: m.plan.value, by: m.actionId };
    }
    if (organic.at !== undefined && organic.at <= t && (first === undefined || organic.at < first.at)) {
      const before = sent.filter((m) => m.at < (organic.at as number)).length;
      if (organicSurvives(world, c, organic, before))
        first = { at: organic.at, value: organic.value, by: 'organic' };
    }
    return first;
  };
  let t = c.arrivesAt;
  const tried: string[] = [];
  while (sent.length <= s.maxFallbacks && t <= horizonEnd && orderBy(t) === undefined) {
    const candidates = Object.keys(s.actions).filter((a) => !tried.includes(a));
    const choice = policy.choose(
      { customer: c, hidden: world.hidden(c, t), at: t, candidates, sent: sent.length },
      policyRng,
    );
    if (choice.actionId === null) break;
    const action = s.actions[choice.actionId];
    if (action === undefined)
      throw new Error(`policy ${policy.name} chose unknown action ${choice.actionId}`);
    tried.push(choice.actionId);
    const plan = planMessage(world, c, action, t, sent.length + 1, rng);
    sent.push({ actionId: choice.actionId, at: t, plan });
    const windowEnd = t + s.responseWindow;
    if (plan.openAt !== undefined && plan.openAt <= windowEnd) break; // answered: the chain ends
    t = windowEnd;
  }
  const order = orderBy(horizonEnd);
  return {
    index: c.index,
    persona: c.persona,
    converted: order !== undefined,
    value: order?.value ?? 0,
    cost: sent.reduce((sum, m) => sum + (s.actions[m.actionId]?.cost ?? 0), 0),
    path: sent.filter((m) => order === undefined || m.at <= order.at).map((m) => m.actionId),
    by: order?.by ?? null,
  };
};

/** Every customer of the world under `policy`, in arrival order; `onProgress` gets the count done. */
export const runPolicy = (
  world: World,
  policy: Policy,
  policySeed: number,
  onProgress?: (done: number) => void,
): Outcome[] => {
  const rng = seededRng(policySeed);
  const out: Outcome[] = [];
  for (let i = 0; i < world.customers; i++) {
    out.push(runEpisode(world, world.customer(i), policy, rng));
    if (onProgress !== undefined && (i + 1) % 1000 === 0) onProgress(i + 1);
  }
  onProgress?.(world.customers);
  return out;
};
