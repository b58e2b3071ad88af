import type { JsonObject } from '../../domain/index.js';
import type { Profile } from '../../domain/index.js';

/**
 * Merges traits into a profile field by field, by event time: a value sent at `at` replaces the stored one
 * only if the stored one is not newer. Out-of-order and late events therefore never overwrite newer values.
 * Ties go to the later arrival, as a re-sent correction should win. Returns whether anything changed.
 */
export const mergeTraits = (profile: Profile, traits: JsonObject, at: number): boolean => {
  let changed = false;
  for (const key of Object.keys(traits)) {
    const value = traits[key];
    // Never let a payload reach an object's prototype, whatever the parser upstream let through.
    if (value === undefined || key === '__proto__') continue;
    const heldAt = profile.traitTimes[key];
    if (heldAt !== undefined && heldAt > at) continue;
    profile.traitTimes[key] = at;
    if (!sameJson(profile.traits[key], value)) {
      profile.traits[key] = value;
      changed = true;
    }
  }
  return changed;
};

/** Folds `from`'s traits into `into` with the same newest-wins rule (used when two profiles merge). */
export const mergeTraitsFrom = (into: Profile, from: Profile): void => {
  for (const key of Object.keys(from.traits)) {
    if (key === '__proto__') continue;
    const at = from.traitTimes[key] ?? 0;
    const heldAt = into.traitTimes[key];
    if (heldAt === undefined || heldAt < at) {
      into.traits[key] = from.traits[key] ?? null;
      into.traitTimes[key] = at;
    }
  }
};

const sameJson = (a: unknown, b: unknown): boolean =>
  a === b || (typeof a === 'object' && typeof b === 'object' && JSON.stringify(a) === JSON.stringify(b));
