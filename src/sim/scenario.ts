import { parseDocument } from 'yaml';
import { z } from 'zod';

/**
 * A simulation scenario: who the customers are (a mix of personas with visible traits and hidden preferences),
 * what each action of the workspace offers them, how they respond, and how their preferences drift. Parsed from
 * YAML text here (pure); reading the file is the caller's job. Every probability is per customer and message.
 */

const probability = z.number().min(0, 'a probability from 0 to 1').max(1, 'a probability from 0 to 1');
const id = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, _ . - only');
const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(m|h|d)$/;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };
/** `30m`, `4h`, `1d` as milliseconds. */
const duration = z.string().transform((text, ctx) => {
  const m = DURATION_RE.exec(text.trim());
  if (!m || Number(m[1]) <= 0) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration: write e.g. 30m, 4h, 1d` });
    return z.NEVER;
  }
  return Math.round(Number(m[1]) * (UNIT_MS[m[2] as string] as number));
});

export const SIM_CHANNELS = ['email', 'sms', 'push', 'webhook'] as const;
export type SimChannel = (typeof SIM_CHANNELS)[number];

const actionSchema = z.strictObject({
  channel: z.enum(SIM_CHANNELS),
  /**
   * The product category the message features (`browsed`: the one the customer viewed); none: generic content,
   * clicked with `response.genericClick`.
   */
  category: z.string().optional(),
  /** Share off the order (0.15 = 15%): lifts conversion for price-sensitive customers, lowers the order's value. */
  discount: z.number().min(0).max(0.9).default(0),
  /** What one send costs the shop (must match the workspace's `cost`): the oracle weighs it. */
  cost: z.number().min(0).default(0),
});

/** The hidden part of a persona: what the policy never sees, only the oracle. */
const hiddenShape = {
  /** P(conversion within the horizon) with no message at all. */
  baseRate: probability,
  /** P(the customer opens / reads a message) per channel, in their active hours. */
  channels: z.partialRecord(z.enum(SIM_CHANNELS), probability),
  /** P(click | opened) for content about each category; the browsed category is drawn in proportion to it. */
  interests: z.record(z.string(), probability),
  /** 0–1: how much a discount lifts P(convert | click). */
  priceSensitivity: probability,
  /** Local hours [from, to) when the customer reads messages (may wrap midnight: [20, 2]). */
  activeHours: z.tuple([z.number().int().min(0).max(23), z.number().int().min(0).max(24)]),
  /** 0–1: each earlier message multiplies the response and the organic conversion by (1 − fatigue). */
  fatigue: probability,
  /** Mean order value before any discount. */
  orderValue: z.number().positive(),
};

const personaSchema = z.strictObject({
  name: id,
  /** Relative weight in the population (normalised over all personas). */
  share: z.number().positive(),
  /** Visible traits, each a distribution over values (`device: {mobile: 0.8, desktop: 0.2}`), sent with identify. */
  traits: z.record(z.string(), z.record(z.string(), z.number().nonnegative())).default({}),
  ...hiddenShape,
});

const driftSchema = z.strictObject({
  /** When, as a share of the arrivals (0.5: once half the customers have arrived). */
  at: z.number().gt(0).lt(1),
  persona: id,
  /** Hidden preferences replaced from then on (channels and interests merge key by key). */
  set: z.strictObject({
    baseRate: hiddenShape.baseRate.optional(),
    channels: hiddenShape.channels.optional(),
    interests: hiddenShape.interests.optional(),
    priceSensitivity: hiddenShape.priceSensitivity.optional(),
    activeHours: hiddenShape.activeHours.optional(),
    fatigue: hiddenShape.fatigue.optional(),
    orderValue: hiddenShape.orderValue.optional(),
  }),
});

export const scenarioSchema = z
  .strictObject({
    name: id,
    description: z.string().default(''),
    /** The Pathwise workspace the autonomous policy runs with, relative to the scenario file. */
    config: z.string().min(1),
    customers: z.number().int().positive().default(5000),
    seed: z.number().int().nonnegative().default(1),
    timing: z
      .strictObject({
        start: z.iso.datetime().default('2026-11-02T00:00:00Z'),
        /** Customers arriving per simulated hour: with the attribution window, it sets how late the engine learns. */
        arrivalsPerHour: z.number().positive().default(200),
        /** How long each customer is followed after arriving; a conversion later does not count. */
        horizon: duration.default(86_400_000),
        /** The driver's step: events due within a tick are sent, then the engine loop runs once. */
        tick: duration.default(300_000),
      })
      .default({
        start: '2026-11-02T00:00:00Z',
        arrivalsPerHour: 200,
        horizon: 86_400_000,
        tick: 300_000,
      }),
    /** The event every customer sends on arrival (after identify); `category` is set to their browsed category. */
    trigger: z.strictObject({
      event: z.string().min(1),
      properties: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
    }),
    /** The goal event a conversion sends, with the order value in `valueProperty`. */
    goal: z
      .strictObject({
        event: z.string().min(1).default('Order Completed'),
        valueProperty: z.string().default('total'),
      })
      .default({ event: 'Order Completed', valueProperty: 'total' }),
    /** Every message action of the workspace the engine may choose, and what it offers. */
    actions: z.record(id, actionSchema),
    /** The static journey: the same sequence for everyone, the next one after each unanswered message. */
    staticJourney: z.array(id).min(1),
    /** Hours without a response before a message counts as unanswered (the workspace's `responseWindow`). */
    responseWindow: duration.default(14_400_000),
    /** Alternatives tried after unanswered messages (the engine's MAX_FALLBACKS). */
    maxFallbacks: z.number().int().min(0).max(10).default(3),
    response: z
      .strictObject({
        /** P(convert | click) without a discount. */
        convertGivenClick: probability.default(0.4),
        /** P(convert | click) rises by discount × discountLift × priceSensitivity. */
        discountLift: z.number().nonnegative().default(2),
        /** P(click | opened) for content without a category. */
        genericClick: probability.default(0.15),
        /** Open probability outside the customer's active hours, as a share of it inside. */
        offHours: probability.default(0.3),
        /** Mean delays (exponential) from send to open, open to click, click to order. */
        openDelay: duration.default(3_600_000),
        clickDelay: duration.default(600_000),
        convertDelay: duration.default(3_600_000),
        /** Individual variation: each hidden probability is scaled by exp(jitter · N(0, 1)). */
        jitter: z.number().min(0).max(2).default(0.2),
        /** Order values vary by exp(valueNoise · N(0, 1)). */
        valueNoise: z.number().min(0).max(2).default(0.25),
      })
      .default({
        convertGivenClick: 0.4,
        discountLift: 2,
        genericClick: 0.15,
        offHours: 0.3,
        openDelay: 3_600_000,
        clickDelay: 600_000,
        convertDelay: 3_600_000,
        jitter: 0.2,
        valueNoise: 0.25,
      }),
    population: z.array(personaSchema).min(1),
    drift: z.array(driftSchema).default([]),
  })
  .superRefine((s, ctx) => {
    const names = new Set(s.population.map((p) => p.name));
    s.staticJourney.forEach((a, i) => {
      if (!(a in s.actions))
        ctx.addIssue({ code: 'custom', path: ['staticJourney', i], message: `unknown action "${a}"` });
    });
    s.drift.forEach((d, i) => {
      if (!names.has(d.persona))
        ctx.addIssue({
          code: 'custom',
          path: ['drift', i, 'persona'],
          message: `unknown persona "${d.persona}"`,
        });
    });
    s.population.forEach((p, i) => {
      for (const [a, action] of Object.entries(s.actions)) {
        if (p.channels[action.channel] === undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['population', i, 'channels'],
            message: `no affinity for ${action.channel} (used by action ${a})`,
          });
      }
      if (Object.keys(p.interests).length === 0)
        ctx.addIssue({
          code: 'custom',
          path: ['population', i, 'interests'],
          message: 'name at least one category',
        });
    });
  });

export type Scenario = z.output<typeof scenarioSchema>;
export type Persona = Scenario['population'][number];
export type SimAction = Scenario['actions'][string];
export type Hidden = Pick<
  Persona,
  'baseRate' | 'channels' | 'interests' | 'priceSensitivity' | 'activeHours' | 'fatigue' | 'orderValue'
>;

/** A scenario that cannot be used, with every problem as `path: message`. */
export class ScenarioError extends Error {
  constructor(readonly issues: string[]) {
    super(issues.join('; '));
    this.name = 'ScenarioError';
  }
}

const pathOf = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (s, k) => (typeof k === 'number' ? `${s}[${k}]` : s === '' ? String(k) : `${s}.${String(k)}`),
    '',
  );

/** Parses and validates scenario YAML; throws a ScenarioError naming each bad field. */
export const parseScenario = (text: string): Scenario => {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new ScenarioError(
      doc.errors.map((e) => `(yaml) ${(e.message.split('\n')[0] ?? e.message).trim()}`),
    );
  }
  const parsed = scenarioSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    throw new ScenarioError(parsed.error.issues.map((i) => `${pathOf(i.path) || '(root)'}: ${i.message}`));
  }
  return parsed.data;
};
