import type { ComputedState, Json, PathwiseEvent, Profile } from '../../domain/index.js';
import type { ComputedTraitConfig } from '../../config/schema.js';
import { eventKey, readProperty } from './event-key.js';

/**
 * Computed traits are updated incrementally from each event, never by rescanning history.
 * Windowed ones (count/sum/avg over the last N) keep per-bucket totals: the window is split into
 * BUCKETS_PER_WINDOW buckets by event time, so the value is exact to 1/BUCKETS_PER_WINDOW of the window
 * and the state stays bounded (old buckets are pruned on every update).
 */
export const BUCKETS_PER_WINDOW = 24;

const bucketSize = (windowMs: number): number => Math.max(1000, Math.floor(windowMs / BUCKETS_PER_WINDOW));

const numeric = (v: unknown): number | undefined => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
};

const freshState = (def: ComputedTraitConfig): ComputedState => {
  switch (def.kind) {
    case 'count':
      return { kind: 'count', total: 0 };
    case 'sum':
    case 'avg':
      return { kind: def.kind, sum: 0, n: 0 };
    case 'first':
    case 'last':
      return { kind: def.kind, at: null, value: null };
    case 'mostFrequent':
      return { kind: 'mostFrequent', counts: {} };
  }
};

/** Drops buckets that can no longer fall inside the window as of `now`. */
const prune = <T>(buckets: Record<string, T>, windowMs: number, now: number): void => {
  const size = bucketSize(windowMs);
  const oldest = Math.floor((now - windowMs) / size);
  for (const k of Object.keys(buckets)) if (Number(k) < oldest) delete buckets[k];
};

/** Applies one event to every computed trait it concerns. Returns whether any state changed. */
export const applyComputed = (
  profile: Profile,
  event: PathwiseEvent,
  defs: readonly ComputedTraitConfig[],
  now: number,
): boolean => {
  const key = eventKey(event);
  let changed = false;
  for (const def of defs) {
    if (def.event !== key) continue;
    const prior = profile.computed[def.name];
    const state = prior && prior.kind === def.kind ? prior : freshState(def);
    if (update(state, def, event, now)) {
      profile.computed[def.name] = state;
      changed = true;
    }
  }
  return changed;
};

const update = (
  state: ComputedState,
  def: ComputedTraitConfig,
  event: PathwiseEvent,
  now: number,
): boolean => {
  const at = event.timestamp;
  switch (state.kind) {
    case 'count': {
      if (def.kind !== 'count') return false;
      state.total += 1;
      if (def.window !== undefined) {
        if (at < now - def.window) return true; // too old for the window, still counts in `total`
        const buckets = (state.buckets ??= {});
        const b = String(Math.floor(at / bucketSize(def.window)));
        buckets[b] = (buckets[b] ?? 0) + 1;
        prune(buckets, def.window, now);
      }
      return true;
    }
    case 'sum':
    case 'avg': {
      if (def.kind !== 'sum' && def.kind !== 'avg') return false;
      const v = numeric(readProperty(event, def.property));
      if (v === undefined) return false;
      state.sum += v;
      state.n += 1;
      if (def.window !== undefined && at >= now - def.window) {
        const buckets = (state.buckets ??= {});
        const b = String(Math.floor(at / bucketSize(def.window)));
        const cur = buckets[b] ?? [0, 0];
        buckets[b] = [cur[0] + v, cur[1] + 1];
        prune(buckets, def.window, now);
      }
      return true;
    }
    case 'first':
    case 'last': {
      if (def.kind !== 'first' && def.kind !== 'last') return false;
      const value = def.property === undefined ? null : ((readProperty(event, def.property) as Json) ?? null);
      if (def.property !== undefined && value === null) return false;
      const better = state.at === null || (state.kind === 'first' ? at < state.at : at >= state.at);
      if (!better) return false;
      state.at = at;
      state.value = value;
      return true;
    }
    case 'mostFrequent': {
      if (def.kind !== 'mostFrequent') return false;
      const raw = readProperty(event, def.property);
      if (raw === undefined || raw === null || typeof raw === 'object') return false;
      const v = String(raw);
      state.counts[v] = (state.counts[v] ?? 0) + 1;
      const keys = Object.keys(state.counts);
      if (keys.length > def.maxValues) {
        // Drop the rarest (never the value just counted) so the state cannot grow without bound.
        let rarest: string | undefined;
        for (const k of keys) {
          if (k !== v && (rarest === undefined || (state.counts[k] ?? 0) < (state.counts[rarest] ?? 0)))
            rarest = k;
        }
        if (rarest !== undefined) delete state.counts[rarest];
      }
      return true;
    }
  }
};

/** A computed trait's public value: a number, a string, a time (as Date), or null when nothing was seen. */
export type ComputedValue = number | string | boolean | Date | null | Json;

export const computedValue = (
  state: ComputedState | undefined,
  def: ComputedTraitConfig,
  now: number,
): ComputedValue => {
  if (state === undefined || state.kind !== def.kind) {
    return def.kind === 'count' || def.kind === 'sum' ? 0 : null;
  }
  const windowMs = 'window' in def ? def.window : undefined;
  switch (state.kind) {
    case 'count':
      return windowMs === undefined ? state.total : sumBuckets(state.buckets, windowMs, now, (c) => c);
    case 'sum':
    case 'avg': {
      let sum = state.sum;
      let n = state.n;
      if (windowMs !== undefined) {
        sum = sumBuckets(state.buckets, windowMs, now, (c) => c[0]);
        n = sumBuckets(state.buckets, windowMs, now, (c) => c[1]);
      }
      if (state.kind === 'sum') return sum;
      return n === 0 ? null : sum / n;
    }
    case 'first':
    case 'last':
      if (state.at === null) return null;
      return def.kind !== 'mostFrequent' && 'property' in def && def.property !== undefined
        ? state.value
        : new Date(state.at);
    case 'mostFrequent': {
      let best: string | null = null;
      let bestCount = 0;
      for (const [k, c] of Object.entries(state.counts)) {
        // Ties break by value so the answer does not depend on insertion order.
        if (c > bestCount || (c === bestCount && best !== null && k < best)) {
          best = k;
          bestCount = c;
        }
      }
      return best;
    }
  }
};

const sumBuckets = <T>(
  buckets: Record<string, T> | undefined,
  windowMs: number,
  now: number,
  pick: (t: T) => number,
): number => {
  if (!buckets) return 0;
  const size = bucketSize(windowMs);
  const oldest = Math.floor((now - windowMs) / size);
  let total = 0;
  for (const [k, v] of Object.entries(buckets)) if (Number(k) >= oldest) total += pick(v);
  return total;
};

/** All computed values of a profile, keyed by trait name. */
export const computedValues = (
  profile: Profile,
  defs: readonly ComputedTraitConfig[],
  now: number,
): Record<string, ComputedValue> => {
  const out: Record<string, ComputedValue> = {};
  for (const def of defs) out[def.name] = computedValue(profile.computed[def.name], def, now);
  return out;
};

/** Combines the states of two merging profiles: counts and sums add, first/last take the extreme. */
export const mergeComputedState = (
  a: ComputedState | undefined,
  b: ComputedState | undefined,
): ComputedState | undefined => {
  if (a === undefined) return b;
  if (b === undefined || a.kind !== b.kind) return a;
  switch (a.kind) {
    case 'count': {
      const o = b as typeof a;
      return {
        kind: 'count',
        total: a.total + o.total,
        ...mergeBuckets(a.buckets, o.buckets, (x, y) => x + y),
      };
    }
    case 'sum':
    case 'avg': {
      const o = b as typeof a;
      return {
        kind: a.kind,
        sum: a.sum + o.sum,
        n: a.n + o.n,
        ...mergeBuckets(a.buckets, o.buckets, (x, y): [number, number] => [x[0] + y[0], x[1] + y[1]]),
      };
    }
    case 'first':
    case 'last': {
      const o = b as typeof a;
      if (o.at === null) return a;
      if (a.at === null) return o;
      const takeOther = a.kind === 'first' ? o.at < a.at : o.at > a.at;
      return takeOther ? o : a;
    }
    case 'mostFrequent': {
      const o = b as typeof a;
      const counts = { ...a.counts };
      for (const [k, c] of Object.entries(o.counts)) counts[k] = (counts[k] ?? 0) + c;
      return { kind: 'mostFrequent', counts };
    }
  }
};

const mergeBuckets = <T>(
  a: Record<string, T> | undefined,
  b: Record<string, T> | undefined,
  add: (x: T, y: T) => T,
): { buckets?: Record<string, T> } => {
  if (!a && !b) return {};
  const out: Record<string, T> = { ...(a ?? {}) };
  for (const [k, v] of Object.entries(b ?? {})) {
    const cur = out[k];
    out[k] = cur === undefined ? v : add(cur, v);
  }
  return { buckets: out };
};
