import type { Profile } from '../../domain/index.js';
import { mergeComputedState } from './computed.js';
import { mergeTraitsFrom } from './traits.js';

/**
 * Folds profile `from` into `into` (mutating `into`): traits newest-wins per field, computed-trait states
 * combined (counts add, first/last take the extreme), seen-times widened. Segment membership is not copied:
 * the caller re-evaluates it on the merged data.
 */
export const mergeProfiles = (into: Profile, from: Profile): void => {
  mergeTraitsFrom(into, from);
  for (const name of new Set([...Object.keys(into.computed), ...Object.keys(from.computed)])) {
    const merged = mergeComputedState(into.computed[name], from.computed[name]);
    if (merged !== undefined) into.computed[name] = merged;
  }
  into.firstSeen = Math.min(into.firstSeen, from.firstSeen);
  into.lastSeen = Math.max(into.lastSeen, from.lastSeen);
  into.createdAt = Math.min(into.createdAt, from.createdAt);
};
