import { z } from 'zod';

/**
 * The saved form of a BanditModel: plain JSON. Format 2: the arm-major weight layout (learn/logistic.ts), each
 * arm with its dense index, slots holding variances; a format-1 snapshot cannot be read into it (the learner
 * then relearns from the reward log). Only weight slots that moved from the prior are listed (as
 * parallel arrays), so a young model is a few KiB rather than 2 × 2^featureBits numbers. Doubles survive
 * JSON.stringify → JSON.parse exactly (shortest round-trip formatting), so a loaded model scores identically.
 */
export const SNAPSHOT_FORMAT = 2;

/** Bounds of `featureBits`: 2^24 slots is 256 MiB of weights, the most a single process should hold. */
export const MAX_FEATURE_BITS = 24;

const finite = z.number();
const count = z.number().int().nonnegative();

export const modelSettingsSchema = z.strictObject({
  featureBits: z.number().int().min(1).max(MAX_FEATURE_BITS),
  priorVariance: z.number().positive(),
  minObservations: count,
});

const armSchema = z.strictObject({
  id: z.string().min(1),
  /** Its dense index in the weight table (block and lane, see learn/logistic.ts). */
  index: count,
  /** Beta posterior: 1 + Σ r and 1 + Σ (1 − r). */
  alpha: z.number().min(1),
  beta: z.number().min(1),
  observations: count,
  /** The arm's logistic intercept (see learn/logistic.ts). */
  intercept: z.strictObject({ mean: finite, precision: z.number().positive() }),
});

export const snapshotSchema = z
  .strictObject({
    format: z.literal(SNAPSHOT_FORMAT),
    settings: modelSettingsSchema,
    /** Updates applied. */
    version: count,
    arms: z.array(armSchema),
    /** Slots whose mean or precision differs from the prior, ascending, with their values. */
    weights: z.strictObject({
      slot: z.array(count),
      mean: z.array(finite),
      variance: z.array(z.number().positive()),
    }),
  })
  .superRefine((s, ctx) => {
    const { slot, mean, variance } = s.weights;
    if (mean.length !== slot.length || variance.length !== slot.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['weights'],
        message: `slot, mean and variance must have the same length (got ${slot.length}, ${mean.length}, ${variance.length})`,
      });
    }
    const size = 2 ** Math.max(s.settings.featureBits, 4); // at least one row of 16 lanes
    for (let i = 0; i < slot.length; i++) {
      const at = slot[i] ?? 0;
      if (at >= size) {
        ctx.addIssue({
          code: 'custom',
          path: ['weights', 'slot', i],
          message: `${at} is outside the table of 2^${s.settings.featureBits} slots`,
        });
        return;
      }
      if (i > 0 && at <= (slot[i - 1] ?? -1)) {
        ctx.addIssue({
          code: 'custom',
          path: ['weights', 'slot', i],
          message: 'slots must be strictly ascending',
        });
        return;
      }
    }
    const seen = new Set<string>();
    const indices = new Set<number>();
    s.arms.forEach((arm, i) => {
      if (seen.has(arm.id)) {
        ctx.addIssue({ code: 'custom', path: ['arms', i, 'id'], message: `duplicate arm "${arm.id}"` });
      }
      if (indices.has(arm.index)) {
        ctx.addIssue({ code: 'custom', path: ['arms', i, 'index'], message: `index ${arm.index} is taken` });
      }
      seen.add(arm.id);
      indices.add(arm.index);
    });
  });

export type ModelSettings = z.output<typeof modelSettingsSchema>;
export type ModelSnapshot = z.output<typeof snapshotSchema>;

/** `weights.slot[3]` style paths, so the message names the field at fault. */
const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (out, key) =>
      typeof key === 'number' ? `${out}[${key}]` : out === '' ? String(key) : `${out}.${String(key)}`,
    '',
  ) || '(root)';

/** Parses an untrusted snapshot; throws an Error listing every field at fault. */
export const parseSnapshot = (input: unknown): ModelSnapshot => {
  const result = snapshotSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 10).map((i) => `${formatPath(i.path)}: ${i.message}`);
  throw new Error(`invalid model snapshot: ${problems.join('; ')}`);
};
