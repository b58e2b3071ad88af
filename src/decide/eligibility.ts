import type { CandidateTrace } from '../domain/index.js';
import type { CompiledAction } from './catalog.js';

export type Removal = NonNullable<CandidateTrace['removed']>;

/** What eligibility rules see; the same variables config check declares for `eligible` expressions. */
export interface EligibilityContext {
  traits: Record<string, unknown>;
  computed: Record<string, unknown>;
  segments: readonly string[];
  event: Record<string, unknown>;
  context: Record<string, unknown>;
  now: Date;
}

const rule = (a: CompiledAction, field: string, reason: string): Removal => ({
  stage: 'eligibility',
  rule: `actions[${a.index}].${field}`,
  reason,
});

/**
 * The action's own rules: approval state, start and end dates, audience segments, and its `eligible`
 * expression. Returns why it is not eligible, or undefined. An expression that fails at run time for this
 * customer (a trait it reads is missing) means "not eligible", as for segments.
 */
export const checkEligibility = (
  a: CompiledAction,
  ctx: EligibilityContext,
  now: number,
): Removal | undefined => {
  const c = a.config;
  if (c.status !== 'approved') return rule(a, 'status', `the action is ${c.status}, not approved`);
  if (c.start !== undefined && now < c.start)
    return rule(a, 'start', `starts ${new Date(c.start).toISOString()}`);
  if (c.end !== undefined && now >= c.end) return rule(a, 'end', `ended ${new Date(c.end).toISOString()}`);
  const { include, exclude } = c.audience;
  if (include.length > 0 && !include.some((s) => ctx.segments.includes(s)))
    return rule(a, 'audience.include', `not in any of the segments ${include.join(', ')}`);
  const inExcluded = exclude.find((s) => ctx.segments.includes(s));
  if (inExcluded !== undefined) return rule(a, 'audience.exclude', `in the excluded segment ${inExcluded}`);
  if (a.eligible !== undefined) {
    let result: unknown;
    try {
      result = a.eligible(ctx as unknown as Record<string, unknown>);
    } catch (err) {
      return rule(
        a,
        'eligible',
        `expression could not be evaluated: ${(err as Error).message.split('\n')[0]}`,
      );
    }
    if (result !== true) return rule(a, 'eligible', `${c.eligible} is false`);
  }
  return undefined;
};
