import { normal, type Rng } from '../learn/index.js';
import type { Hidden, Scenario, SimAction } from './scenario.js';
import type { SimCustomer, World } from './world.js';

const HOUR = 3_600_000;

/** Whether UTC hour `hour` is inside [from, to) (the range may wrap midnight). */
export const inActiveHours = (hour: number, [from, to]: readonly [number, number]): boolean =>
  from <= to ? hour >= from && hour < to : hour >= from || hour < to;

/** The response model's probabilities for one message. */
export interface MessageOdds {
  open: number;
  /** P(click | opened). */
  click: number;
  /** P(order | clicked). */
  convert: number;
}

/**
 * The stochastic response model for the `k`-th message (1-based) a customer gets: they open it with their
 * channel affinity (× `offHours` outside their active hours), click with their interest in its category (or
 * `genericClick`), and order with P(convert | click) lifted by discount × discountLift × priceSensitivity.
 * Fatigue: the open probability is scaled by (1 − fatigue)^(k − 1), so every earlier message makes this one
 * less likely to work.
 */
export const messageOdds = (
  h: Hidden,
  action: SimAction,
  sentAt: number,
  k: number,
  response: Scenario['response'],
  browsed: string,
): MessageOdds => {
  const hour = new Date(sentAt).getUTCHours();
  const timing = inActiveHours(hour, h.activeHours) ? 1 : response.offHours;
  const open = (h.channels[action.channel] ?? 0) * timing * (1 - h.fatigue) ** (k - 1);
  const category = action.category === 'browsed' ? browsed : action.category;
  const click = category === undefined ? response.genericClick : (h.interests[category] ?? 0);
  const convert = Math.min(
    1,
    response.convertGivenClick * (1 + action.discount * response.discountLift * h.priceSensitivity),
  );
  return { open, click, convert };
};

/** P(the message leads to an order) = open × click × convert. */
export const conversionChance = (o: MessageOdds): number => o.open * o.click * o.convert;

/** What a customer will do about one message: the times of their open, click and order (absent: never). */
export interface MessagePlan {
  openAt?: number;
  clickAt?: number;
  convertAt?: number;
  /** The order's value if they order (discount applied). */
  value: number;
}

const exp = (rng: Rng, mean: number): number => -Math.log(1 - rng.next()) * mean;

/**
 * Draws the customer's reaction to the `k`-th message, sent at `sentAt`. Always 7 draws from `rng`, whatever
 * happens, so two policies that send the k-th message see the same luck (common random numbers).
 */
export const planMessage = (
  world: World,
  c: SimCustomer,
  action: SimAction,
  sentAt: number,
  k: number,
  rng: Rng,
): MessagePlan => {
  const r = world.scenario.response;
  const h = world.hidden(c, sentAt);
  const odds = messageOdds(h, action, sentAt, k, r, c.category);
  const [uOpen, openDelay, uClick, clickDelay, uConvert, convertDelay] = [
    rng.next(),
    exp(rng, r.openDelay),
    rng.next(),
    exp(rng, r.clickDelay),
    rng.next(),
    exp(rng, r.convertDelay),
  ];
  const value = round2(h.orderValue * (1 - action.discount) * Math.exp(r.valueNoise * normal(rng)));
  if (uOpen >= odds.open) return { value };
  const openAt = sentAt + openDelay;
  if (uClick >= odds.click) return { openAt, value };
  const clickAt = openAt + clickDelay;
  if (uConvert >= odds.convert) return { openAt, clickAt, value };
  return { openAt, clickAt, convertAt: clickAt + convertDelay, value };
};

/** An order the customer would place with no message at all, unless fatigue puts them off first. */
export interface OrganicPlan {
  /** When they would order; absent when they would not. */
  at?: number;
  value: number;
  /** Uniform draw for the fatigue check: the order happens when survive < (1 − fatigue)^messagesBefore. */
  survive: number;
}

/** Draws the organic conversion at arrival: 4 draws, before any message's (common random numbers). */
export const planOrganic = (world: World, c: SimCustomer, rng: Rng): OrganicPlan => {
  const h = world.hidden(c, c.arrivesAt);
  const [u, when, survive] = [rng.next(), rng.next(), rng.next()];
  const value = round2(h.orderValue * Math.exp(world.scenario.response.valueNoise * normal(rng)));
  return u < h.baseRate
    ? { at: c.arrivesAt + when * world.scenario.timing.horizon, value, survive }
    : { value, survive };
};

/** Whether the organic order still happens after `messagesBefore` messages (fatigue at its time). */
export const organicSurvives = (
  world: World,
  c: SimCustomer,
  plan: OrganicPlan,
  messagesBefore: number,
): boolean =>
  plan.at !== undefined && plan.survive < (1 - world.hidden(c, plan.at).fatigue) ** messagesBefore;

const round2 = (x: number): number => Math.round(x * 100) / 100;

export { HOUR };
