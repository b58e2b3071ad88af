import type { IdentityKey, Profile, StoredEvent } from '../domain/index.js';
import type { ComputedTraitConfig } from '../config/index.js';
import { PROFILE_ID_KIND, type ErasureCounts, type ProfileExport, type Store } from '../store/index.js';
import { isPathwiseError, PathwiseError } from '../errors.js';
import { computedValues, normalizeIdentifier } from './core/index.js';
import type { ProfileQueries } from './query.js';

/** What `DELETE /v1/profiles/:id` and `pathwise forget` return. */
export interface ErasureReceiptView {
  profileId: string;
  erasedAt: string;
  removed: ErasureCounts;
}

export interface PrivacyDeps {
  store: Store;
  queries: ProfileQueries;
  now: () => number;
  newId: () => string;
  /** Identifier traits of the identity config (`email`, `phone`, …): an erased one is recognised too. */
  identifiers: () => readonly string[];
  computedTraits: () => readonly ComputedTraitConfig[];
  /** The trait holding consent (`policy.consent.trait`), shown on its own in an export. */
  consentTrait: () => string;
}

/** The audit log's name for an erasure. */
export const ERASE_CHANGE = 'profile.erase';

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : iso(ms);

/**
 * The rights to erasure and access (GDPR art. 17 and 15): erase a person everywhere, keeping only a keyed-hash
 * tombstone of their identifiers, and export everything held about them. Handlers and the CLI call this.
 */
export class PrivacyService {
  constructor(private readonly deps: PrivacyDeps) {}

  /** Erases the person an identifier leads to, in one transaction with its audit entry (counts only). */
  async forget(identifier: string, actor: string): Promise<ErasureReceiptView> {
    const id = await this.resolve(identifier);
    const now = this.deps.now();
    const receipt = await this.deps.store.write(async (w) => {
      const r = await w.forget(id, now);
      if (r === undefined) return undefined;
      // No identifier, not even the (random) profile id, goes into the audit log: the profile id's tombstone
      // and the counts say what was done.
      await w.addAudit({
        id: this.deps.newId(),
        at: now,
        actor,
        change: ERASE_CHANGE,
        target: `tombstone:${r.tombstone}`,
        detail: { removed: { ...r.removed } },
      });
      return r;
    });
    // Erased (or merged away) between the lookup and the transaction.
    if (receipt === undefined) throw await this.missing(identifier);
    return { profileId: receipt.profileId, erasedAt: iso(receipt.erasedAt), removed: receipt.removed };
  }

  /**
   * Everything held about the person, as one JSON document built in memory: one customer's history (events,
   * decisions) is assumed to fit in memory, as it does for thousands to a few hundred thousand events.
   */
  async export(identifier: string) {
    const id = await this.resolve(identifier);
    const data = await this.deps.store.read.exportProfile(id);
    if (data === undefined) throw await this.missing(identifier);
    return this.view(data);
  }

  /** The profile id an identifier leads to; an unknown one is told apart from an erased one. */
  private async resolve(identifier: string): Promise<string> {
    try {
      return await this.deps.queries.resolve(identifier);
    } catch (err) {
      if (isPathwiseError(err) && err.code === 'PW_ERR_PROFILE_NOT_FOUND')
        throw await this.missing(identifier);
      throw err;
    }
  }

  private async missing(identifier: string): Promise<PathwiseError> {
    const erased = await this.deps.store.read.isTombstoned(this.candidateKeys(identifier));
    return new PathwiseError(
      erased ? 'PW_ERR_PROFILE_ERASED' : 'PW_ERR_PROFILE_NOT_FOUND',
      JSON.stringify(identifier),
    );
  }

  /** Every identity the identifier may stand for, as the profile read routes accept it. */
  private candidateKeys(identifier: string): IdentityKey[] {
    const keys: IdentityKey[] = [{ kind: PROFILE_ID_KIND, value: identifier }];
    const add = (kind: string, raw: string) => {
      const value = normalizeIdentifier(kind, raw);
      if (value !== undefined) keys.push({ kind, value });
    };
    const colon = identifier.indexOf(':');
    if (colon > 0) add(identifier.slice(0, colon), identifier.slice(colon + 1));
    for (const kind of new Set(['userId', 'anonymousId', 'email', 'phone', ...this.deps.identifiers()]))
      add(kind, identifier);
    return keys;
  }

  private view(d: ProfileExport) {
    const now = this.deps.now();
    const computed: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(computedValues(d.profile, this.deps.computedTraits(), now)))
      computed[k] = v instanceof Date ? v.toISOString() : v;
    const consent = d.profile.traits[this.deps.consentTrait()];
    return {
      exportedAt: iso(now),
      profileId: d.profile.id,
      profile: profileView(d.profile, computed),
      consent: consent ?? null,
      identities: d.identities,
      mergedProfileIds: d.mergedProfileIds,
      merges: d.merges.map((m) => ({
        ...m,
        at: iso(m.at),
        fromSnapshot:
          m.fromSnapshot === null
            ? null
            : { ...m.fromSnapshot, profile: profileView(m.fromSnapshot.profile) },
      })),
      events: d.events.map(eventView),
      decisions: d.decisions.map((x) => ({
        ...x,
        at: iso(x.at),
        sendAt: isoOrNull(x.sendAt),
        attributionEndsAt: iso(x.attributionEndsAt),
        outcomes: x.outcomes.map((o) => ({ ...o, at: iso(o.at) })),
        ...(x.resolution === undefined ? {} : { resolution: { ...x.resolution, at: iso(x.resolution.at) } }),
      })),
      deliveries: d.deliveries.map((x) => ({
        ...x,
        sendAt: iso(x.sendAt),
        nextAttemptAt: iso(x.nextAttemptAt),
        createdAt: iso(x.createdAt),
        updatedAt: iso(x.updatedAt),
        ...(x.sentAt === undefined ? {} : { sentAt: iso(x.sentAt) }),
      })),
      timers: d.timers.map((t) => ({ ...t, dueAt: iso(t.dueAt) })),
      deadLetters: d.deadLetters.map((x) => ({ ...x, receivedAt: iso(x.receivedAt) })),
    };
  }
}

const profileView = (p: Profile, computed?: Record<string, unknown>) => ({
  id: p.id,
  traits: p.traits,
  traitTimes: Object.fromEntries(Object.entries(p.traitTimes).map(([k, v]) => [k, iso(v)])),
  ...(computed === undefined ? {} : { computed }),
  segments: p.segments,
  firstSeen: iso(p.firstSeen),
  lastSeen: iso(p.lastSeen),
  createdAt: iso(p.createdAt),
  updatedAt: iso(p.updatedAt),
  version: p.version,
});

const eventView = (e: StoredEvent) => {
  const { timestamp, receivedAt, sentAt, originalTimestamp, ...rest } = e;
  return {
    ...rest,
    timestamp: iso(timestamp),
    receivedAt: iso(receivedAt),
    ...(sentAt === undefined ? {} : { sentAt: iso(sentAt) }),
    ...(originalTimestamp === undefined ? {} : { originalTimestamp: iso(originalTimestamp) }),
  };
};
