import { z } from 'zod';

import { duration, durationSchema } from './duration.js';
import {
  actionSchema,
  explorationSchema,
  goalSchema,
  holdoutSchema,
  modelSchema,
  placementSchema,
  policySchema,
} from './decisioning.js';
import { channelsSchema } from './channels.js';

export { parseDuration, duration } from './duration.js';

const name = z.string().min(1, 'must not be empty');

export const sourceSchema = z.strictObject({
  name: name.regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, _ . - only'),
  writeKey: z.string().min(8, 'write keys must be at least 8 characters'),
});

export const identitySchema = z.strictObject({
  /** Traits that identify a person across sources (besides userId and anonymousId). */
  identifiers: z.array(name).default(['email', 'phone']),
  /**
   * What to do when one event links two profiles that each have a different userId:
   * `keep-separate` refuses the merge (recorded) and attaches the event to the userId's profile;
   * `merge` merges anyway (the profile with the event's userId survives).
   */
  conflict: z.enum(['keep-separate', 'merge']).default('keep-separate'),
});

const propertyType = z.enum(['string', 'number', 'integer', 'boolean', 'object', 'array']);
export const trackingPlanSchema = z.strictObject({
  /** `reject`: a violating event is refused (400) and dead-lettered; `flag`: it is stored and marked. */
  mode: z.enum(['reject', 'flag']).default('flag'),
  /** Whether track events whose name is not listed are allowed. */
  allowUnplanned: z.boolean().default(true),
  events: z
    .record(
      name,
      z.strictObject({
        properties: z
          .record(name, z.strictObject({ type: propertyType, required: z.boolean().default(false) }))
          .default({}),
        /** Properties not listed are allowed unless this is false. */
        additionalProperties: z.boolean().default(true),
      }),
    )
    .default({}),
});

const computedBase = {
  name: name.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'use a valid identifier (letters, digits, _)'),
  /** The event name this trait watches (track events; `page`/`screen` for those calls). */
  event: name,
};
export const computedTraitSchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...computedBase, kind: z.literal('count'), window: duration.optional() }),
  z.strictObject({ ...computedBase, kind: z.literal('sum'), property: name, window: duration.optional() }),
  z.strictObject({ ...computedBase, kind: z.literal('avg'), property: name, window: duration.optional() }),
  z.strictObject({ ...computedBase, kind: z.literal('first'), property: name.optional() }),
  z.strictObject({ ...computedBase, kind: z.literal('last'), property: name.optional() }),
  z.strictObject({
    ...computedBase,
    kind: z.literal('mostFrequent'),
    property: name,
    /** Distinct values kept per profile; the rarest are dropped beyond it so state stays bounded. */
    maxValues: z.number().int().min(2).max(10_000).default(100),
  }),
]);

export const segmentSchema = z.strictObject({
  name: name.regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'use letters, digits, _ and -'),
  description: z.string().optional(),
  /** A CEL expression over `traits`, `computed` and `segments` (https://cel.dev). */
  where: name,
});

export const segmentRefreshSchema = z.strictObject({
  /**
   * How often every profile's segments are re-evaluated without an event (windows age, definitions change).
   * A sweep also runs at start, so a changed segment definition applies to everyone. `0s` turns sweeps off.
   */
  interval: durationSchema({ allowZero: true, example: '15m, 1h' }).default(15 * 60_000),
  /** Profiles re-evaluated per transaction: small enough that ingest never waits long behind a sweep. */
  batchSize: z.number().int().min(1).max(10_000).default(500),
});

export const ingestSchema = z.strictObject({
  maxEventBytes: z
    .number()
    .int()
    .positive()
    .default(32 * 1024),
  maxBatchBytes: z
    .number()
    .int()
    .positive()
    .default(500 * 1024),
});

export const storageSchema = z.strictObject({
  /**
   * `full`: a write is acknowledged once its commit is fsynced (survives power loss; the fsync runs off the
   * event loop, see store/sqlite/wal-sync.ts); `normal` survives a crash of the process but may lose the last
   * commits on power loss. Commits are grouped, so `full` costs little.
   */
  synchronous: z.enum(['full', 'normal']).default('full'),
});

export const configSchema = z.strictObject({
  workspace: name.default('default'),
  sources: z.array(sourceSchema).default([]),
  admin: z.strictObject({ key: z.string().min(8, 'admin keys must be at least 8 characters') }).optional(),
  identity: identitySchema.default({ identifiers: ['email', 'phone'], conflict: 'keep-separate' }),
  trackingPlan: trackingPlanSchema.optional(),
  computedTraits: z.array(computedTraitSchema).default([]),
  segments: z.array(segmentSchema).default([]),
  segmentRefresh: segmentRefreshSchema.default({ interval: 15 * 60_000, batchSize: 500 }),
  ingest: ingestSchema.default({ maxEventBytes: 32 * 1024, maxBatchBytes: 500 * 1024 }),
  storage: storageSchema.default({ synchronous: 'full' }),
  goal: goalSchema.optional(),
  placements: z.array(placementSchema).default([]),
  actions: z.array(actionSchema).default([]),
  policy: policySchema.default(policySchema.parse({})),
  holdout: holdoutSchema.default(holdoutSchema.parse({})),
  exploration: explorationSchema.default(explorationSchema.parse({})),
  model: modelSchema.default(modelSchema.parse({})),
  channels: channelsSchema.default({}),
});

export type PathwiseConfig = z.output<typeof configSchema>;
export type ComputedTraitConfig = z.output<typeof computedTraitSchema>;
export type SegmentConfig = z.output<typeof segmentSchema>;
export type TrackingPlanConfig = z.output<typeof trackingPlanSchema>;
export type IdentityConfig = z.output<typeof identitySchema>;
