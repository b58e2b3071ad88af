import { z } from 'zod';
import type { JsonObject } from '../domain/index.js';
import { PathwiseError } from '../errors.js';
import { formatPath } from '../config/path.js';

const contextValue = z.union(
  [z.string().max(1024), z.number(), z.boolean(), z.null(), z.array(z.string().max(1024)).max(100)],
  { error: 'must be a string, number, boolean, null or a list of strings' },
);

const idString = z
  .string({ error: 'must be a string' })
  .min(1, 'must not be empty')
  .max(256, 'must be at most 256 characters');

/** `POST /v1/decide`: who is asking (userId or anonymousId), for which placement, in which context. */
export const decideBodySchema = z
  .strictObject({
    userId: idString.optional(),
    anonymousId: idString.optional(),
    placement: z.string({ error: 'required: the placement id to fill' }).min(1),
    /** Flat facts about the request (page, device, search terms) the eligibility rules and the model see. */
    context: z.record(z.string(), contextValue).default({}),
    writeKey: z.string().optional(),
  })
  .refine((b) => b.userId !== undefined || b.anonymousId !== undefined, {
    message: 'required: userId or anonymousId',
    path: ['userId'],
  });

export type DecideBody = z.output<typeof decideBodySchema> & { context: JsonObject };

/** `POST /v1/decisions/:id/outcome`: explicit feedback from a website or app. */
export const outcomeBodySchema = z.strictObject({
  /** `impression` (the content was shown), `conversion` (the goal), `dismiss`, or an engagement name (`click`). */
  type: z.string({ error: 'required: impression, conversion, dismiss or an engagement name' }).min(1),
  /** The goal's value for a conversion; defaults to the goal's value. */
  value: z.number({ error: 'must be a number' }).nonnegative('must not be negative').optional(),
  /** Makes retries safe: the same messageId is recorded once. */
  messageId: idString.optional(),
  writeKey: z.string().optional(),
});

export type OutcomeBody = z.output<typeof outcomeBodySchema>;

/** Parses a body with zod; the first problem becomes a 400 naming the field. */
export const parseBody = <S extends z.ZodType>(
  schema: S,
  raw: unknown,
  code: 'PW_ERR_DECIDE_INVALID' | 'PW_ERR_OUTCOME_INVALID',
): z.output<S> => {
  const r = schema.safeParse(raw ?? {}, { reportInput: true });
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = (issue?.path ?? []) as PropertyKey[];
  // An unknown field is named itself, not the object holding it.
  const field = formatPath(issue?.code === 'unrecognized_keys' ? [...path, issue.keys[0] ?? ''] : path);
  let message = issue?.message ?? 'invalid';
  if (issue?.code === 'unrecognized_keys') message = `unknown field(s) ${issue.keys.join(', ')}`;
  else if (issue?.code === 'invalid_type' && issue.input === undefined)
    message = message.startsWith('required') ? message : 'required';
  if (field === '')
    throw new PathwiseError(
      code,
      path.length === 0 && issue?.code === 'invalid_type' ? 'the body must be a JSON object' : message,
    );
  throw new PathwiseError(code, `${field}: ${message}`, { field });
};
