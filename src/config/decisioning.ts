import { z } from 'zod';
import { duration, durationSchema } from './duration.js';

/**
 * The decisioning part of `pathwise.yaml`: the goal, web placements, the action catalog, the contact policy,
 * the holdout, exploration bounds and model settings. Consumed by `decide/` and `learn/`.
 */

const id = z
  .string()
  .min(1, 'must not be empty')
  .regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, _ . - only');
const name = z.string().min(1, 'must not be empty');
/** A fraction from 0 to `max`; one message for both bounds, so it states the range. */
const share = (max: number, example: number) => {
  const message = `a share from 0 to ${max}, e.g. ${example}`;
  return z.number().min(0, message).max(max, message);
};

/** Channels an action can use. `web` content is served by `POST /v1/decide` to a placement. */
export const CHANNELS = ['email', 'sms', 'push', 'webhook', 'web'] as const;
export const channelSchema = z.enum(CHANNELS);

const isoDate = z.string().transform((text, ctx) => {
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(ms)) {
    ctx.addIssue({
      code: 'custom',
      message: `"${text}" is not a date: write e.g. 2026-12-01 or 2026-12-01T09:00:00Z`,
    });
    return z.NEVER;
  }
  // Without a zone, Date.parse reads a date-time as the server's local time: refuse the ambiguity.
  if (/[T ]\d/i.test(text) && !/(Z|[+-]\d{2}:?\d{2})$/i.test(text)) {
    ctx.addIssue({
      code: 'custom',
      message: `"${text}" has a time but no time zone: add Z or an offset, e.g. ${text}Z or ${text}+01:00`,
    });
    return z.NEVER;
  }
  return ms;
});

const clockTime = z.string().transform((text, ctx) => {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a time of day: write HH:MM, e.g. 21:00` });
    return z.NEVER;
  }
  return Number(m[1]) * 60 + Number(m[2]);
});

export const goalSchema = z.strictObject({
  /** The track event that counts as reaching the goal, e.g. `Order Completed`. */
  event: name,
  /**
   * The goal's business value: a constant, or a property of the goal event (`{property: total}`) with the
   * `default` used when the property is missing and as the expected value when arbitrating.
   */
  value: z
    .union([
      z.number().nonnegative(),
      z.strictObject({ property: name, default: z.number().nonnegative().default(1) }),
    ])
    .default(1),
  /** A goal event this long after a decision still counts for it. */
  attributionWindow: duration.default(7 * 86_400_000),
  /** Which of the decisions inside the window earn a goal: the latest (default), the earliest, or every one. */
  attribution: z.enum(['last-touch', 'first-touch', 'every-touch']).default('last-touch'),
  /**
   * When the model learns a credited goal: at once (`conversion`, default), or when the decision's attribution
   * window ends (`window-end`), as misses are. Learning successes early and misses late makes whatever was chosen
   * most recently look better than it is while its misses are pending; `window-end` removes that bias at the
   * cost of learning everything a window later.
   */
  learnAt: z.enum(['conversion', 'window-end']).default('conversion'),
  /** Weaker, earlier signals: an engagement event referring to a decision rewards it with `weight` (0–1). */
  engagement: z
    .array(
      z.strictObject({
        /** Short name used by `POST /v1/decisions/:id/outcome` (`{"type": "click"}`). */
        name: id,
        event: name,
        /** What the signal is worth as a share of reaching the goal. */
        weight: share(1, 0.2),
      }),
    )
    .default([]),
});

export const placementSchema = z.strictObject({
  id,
  description: z.string().optional(),
});

export const contentSchema = z.strictObject({
  /** A template reference for the channel adapter (email subject and body templates, later issues). */
  template: name.optional(),
  subject: z.string().optional(),
  body: z.string().optional(),
  /** Structured content returned as-is to web placements or sent as a webhook payload. */
  payload: z.record(z.string(), z.unknown()).optional(),
});

export const triggerSchema = z.strictObject({
  /** Track event names (or `page`, `screen`) that make the action a candidate. */
  events: z.array(name).default([]),
  /** Entering one of these segments makes the action a candidate. */
  segmentsEntered: z.array(name).default([]),
  /** Web placements this action can fill (channel `web`). */
  placements: z.array(id).default([]),
});

export const actionSchema = z.strictObject({
  id,
  description: z.string().optional(),
  channel: channelSchema,
  /** The consent purpose a message of this action needs (see `policy.consent`). */
  purpose: id.default('marketing'),
  content: contentSchema.default({}),
  trigger: triggerSchema.default({ events: [], segmentsEntered: [], placements: [] }),
  /** CEL over `traits`, `computed`, `segments`, `event`, `context`, `now`; the action is a candidate only when true. */
  eligible: name.optional(),
  /** Segment filter: member of at least one of `include` (when given) and of none of `exclude`. */
  audience: z
    .strictObject({ include: z.array(name).default([]), exclude: z.array(name).default([]) })
    .default({ include: [], exclude: [] }),
  /** Value of reaching the goal through this action; defaults to the goal's value. */
  value: z.number().nonnegative().optional(),
  /** What one send costs (an SMS's price, a discount's margin): arbitration uses expected value minus cost. */
  cost: z.number().nonnegative().default(0),
  /** A human lever: multiplies the expected value (2 = push this action, 0.5 = hold it back). */
  weight: z.number().nonnegative().default(1),
  status: z.enum(['draft', 'approved', 'paused']).default('draft'),
  start: isoDate.optional(),
  end: isoDate.optional(),
  budget: z.strictObject({ perDay: z.number().int().positive() }).optional(),
  /** Overrides `policy.doNotRepeat` for this action. */
  doNotRepeat: durationSchema({ allowZero: true, example: '0s, 24h, 14d' }).optional(),
  /** How long to wait for a response before the engine may try an alternative (orchestration). */
  responseWindow: duration.default(24 * 3_600_000),
});

export const frequencyCapSchema = z.strictObject({
  /** A channel, or `all` for a cap across every channel. */
  channel: z.union([channelSchema, z.literal('all')]),
  max: z.number().int().nonnegative(),
  window: duration,
});

export const policySchema = z.strictObject({
  /** Stops every autonomous action at once (decisions are still logged, with the reason). */
  killSwitch: z.boolean().default(false),
  consent: z
    .strictObject({
      /**
       * The trait holding consent: `traits.<trait>.<purpose>` is true (every channel) or an object whose
       * `<channel>` key is true. Example: `{consent: {marketing: {email: true, sms: false}}}`.
       */
      trait: name.default('consent'),
      /** Channel and purpose pairs that need consent; a purpose with channel `all` applies to every channel. */
      require: z
        .array(z.strictObject({ channel: z.union([channelSchema, z.literal('all')]), purpose: id }))
        .default([]),
    })
    .default({ trait: 'consent', require: [] }),
  frequencyCaps: z.array(frequencyCapSchema).default([]),
  quietHours: z
    .strictObject({
      start: clockTime,
      end: clockTime,
      /** The trait with the customer's IANA time zone (e.g. `Europe/Berlin`). */
      timezoneTrait: name.default('timezone'),
      defaultTimezone: name.default('UTC'),
      /** Channels that respect quiet hours; `web` is answered while the customer is there. */
      channels: z.array(channelSchema).default(['email', 'sms', 'push']),
      /** `defer`: send when quiet hours end; `skip`: the action is not a candidate now. */
      mode: z.enum(['defer', 'skip']).default('defer'),
    })
    .optional(),
  /** No autonomous message for this long after the customer reached the goal. */
  conversionCooldown: durationSchema({ allowZero: true, example: '0s, 3d' }).default(0),
  /** The same action is not sent to the same customer again within this time. */
  doNotRepeat: durationSchema({ allowZero: true, example: '0s, 7d' }).default(7 * 86_400_000),
  /** Fatigue: after `maxUnanswered` messages in a row without any response within `window`, stop. */
  fatigue: z.strictObject({ maxUnanswered: z.number().int().positive(), window: duration }).optional(),
  /**
   * One conversation per customer across channels: while a message awaits its response (inside the action's
   * `responseWindow`, unanswered), no other message is sent, so the same offer is never in flight on two
   * channels at once. `false` lets triggers send in parallel.
   */
  oneMessageInFlight: z.boolean().default(true),
});

export const holdoutSchema = z.strictObject({
  /** Share of customers (0–0.5) kept from autonomous actions, to measure uplift. */
  share: share(0.5, 0.1).default(0.1),
  /** Changing the salt reassigns everyone; keep it stable. */
  salt: name.default('pathwise-holdout'),
});

export const explorationSchema = z.strictObject({
  /** Every eligible option keeps at least `min / options` probability (so logged data covers them). */
  min: share(0.5, 0.02).default(0.02),
  /** Decisions that differ from the best-known choice are at most this share. */
  max: share(1, 0.3).default(0.3),
});

export const modelSchema = z.strictObject({
  /** Feature vectors are hashed into 2^bits slots. */
  featureBits: z.number().int().min(10).max(24).default(18),
  /** Prior variance of every weight (Gaussian prior, mean 0). */
  priorVariance: z.number().positive().default(1),
  /** Observations per action before the contextual model replaces its Beta-Bernoulli estimate. */
  minObservations: z.number().int().nonnegative().default(50),
  /** Thompson draws used to estimate each decision's propensity. */
  propensitySamples: z.number().int().min(8).max(10_000).default(64),
});

export type GoalConfig = z.output<typeof goalSchema>;
export type PlacementConfig = z.output<typeof placementSchema>;
export type ActionConfig = z.output<typeof actionSchema>;
export type PolicyConfig = z.output<typeof policySchema>;
export type HoldoutConfig = z.output<typeof holdoutSchema>;
export type ExplorationConfig = z.output<typeof explorationSchema>;
export type ModelConfig = z.output<typeof modelSchema>;
export type FrequencyCapConfig = z.output<typeof frequencyCapSchema>;
