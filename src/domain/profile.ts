import type { Json, JsonObject } from './event.js';

/** An identifier that points at one profile: `userId`, `anonymousId`, or an identifier trait like `email`. */
export interface IdentityKey {
  kind: string;
  value: string;
}

export const identityKeyString = (k: IdentityKey): string => `${k.kind}:${k.value}`;

/** Internal, incrementally-updated state of one computed trait (its public value is derived from it). */
export type ComputedState =
  | { kind: 'count'; total: number; buckets?: Record<string, number> }
  | { kind: 'sum' | 'avg'; sum: number; n: number; buckets?: Record<string, [number, number]> }
  | { kind: 'first' | 'last'; at: number | null; value: Json }
  | { kind: 'mostFrequent'; counts: Record<string, number> };

/** One customer. Trait values are merged per field by event time (`traitTimes`). */
export interface Profile {
  id: string;
  traits: JsonObject;
  /** Event time (epoch ms) of the value each trait currently holds. */
  traitTimes: Record<string, number>;
  computed: Record<string, ComputedState>;
  segments: string[];
  firstSeen: number;
  lastSeen: number;
  createdAt: number;
  updatedAt: number;
  /** Incremented on every write; lets readers detect change. */
  version: number;
}

export type MergeCause = 'identify' | 'alias' | 'identifier-trait';

/** A recorded merge (or a refused one, when the identity conflict rule kept two profiles apart). */
export interface MergeRecord {
  id: string;
  at: number;
  cause: MergeCause;
  /** The profile that survives. */
  intoProfileId: string;
  /** The profile folded into it (its identities, events and traits move over). */
  fromProfileId: string;
  outcome: 'merged' | 'refused';
  /** The event that caused it. */
  messageId: string;
  source: string;
  reason: string;
  /** State of the folded profile before the merge, so a merge can be audited and reversed. */
  fromSnapshot: { profile: Profile; identities: IdentityKey[] } | null;
}

export const emptyProfile = (id: string, at: number): Profile => ({
  id,
  traits: {},
  traitTimes: {},
  computed: {},
  segments: [],
  firstSeen: at,
  lastSeen: at,
  createdAt: at,
  updatedAt: at,
  version: 0,
});
