import { parse } from '@marcbachmann/cel-js';
import type { Profile } from '../../domain/index.js';
import type { ComputedTraitConfig, SegmentConfig } from '../../config/schema.js';
import { computedValues, type ComputedValue } from './computed.js';

export interface CompiledSegment {
  name: string;
  where: string;
  test: (ctx: Record<string, unknown>) => unknown;
}

/** Parses every segment expression once, at start (config check already proved they parse). */
export const compileSegments = (segments: readonly SegmentConfig[]): CompiledSegment[] =>
  segments.map((s) => ({ name: s.name, where: s.where, test: parse(s.where) }));

/**
 * The variables a segment expression sees: `traits`, `computed` (times as CEL timestamps), `segments`
 * (memberships, with earlier segments in config order already updated) and `now`.
 */
export const expressionContext = (
  profile: Profile,
  computed: Record<string, ComputedValue>,
  now: number,
): { traits: Profile['traits']; computed: Record<string, ComputedValue>; segments: string[]; now: Date } => ({
  traits: profile.traits,
  computed,
  segments: [...profile.segments],
  now: new Date(now),
});

/**
 * Evaluates all segments for a profile. An expression that fails at run time for this profile (a trait it
 * reads is missing, or has another type) means "not a member": write `has(traits.x) && …` to be explicit.
 */
export const evaluateSegments = (
  profile: Profile,
  segments: readonly CompiledSegment[],
  defs: readonly ComputedTraitConfig[],
  now: number,
): { members: string[]; entered: string[]; exited: string[] } => {
  if (segments.length === 0 && profile.segments.length === 0) return { members: [], entered: [], exited: [] };
  const ctx = expressionContext(profile, computedValues(profile, defs, now), now);
  const before = new Set(profile.segments);
  // Memberships of segments no longer in the config are dropped (and reported as exits).
  const members = new Set<string>();
  const evaluated = new Set<string>();
  for (const seg of segments) {
    ctx.segments = [...members, ...profile.segments.filter((s) => !evaluated.has(s))];
    evaluated.add(seg.name);
    let inside = false;
    try {
      inside = seg.test(ctx) === true;
    } catch {
      inside = false;
    }
    if (inside) members.add(seg.name);
  }
  const list = [...members].sort();
  return {
    members: list,
    entered: list.filter((s) => !before.has(s)),
    exited: [...before].filter((s) => !members.has(s)).sort(),
  };
};
