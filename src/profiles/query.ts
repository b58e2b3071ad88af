import type { IdentityKey, MergeRecord, Profile } from '../domain/index.js';
import type { ComputedTraitConfig, SegmentConfig } from '../config/index.js';
import type { Page, StoreReader, TimelineItem } from '../store/index.js';
import { PathwiseError } from '../errors.js';
import { computedValues, normalizeIdentifier } from './core/index.js';

/** The public shape of a profile in the API: times as ISO strings, computed traits as values. */
export interface ProfileView {
  id: string;
  identities: IdentityKey[];
  traits: Profile['traits'];
  computed: Record<string, unknown>;
  segments: string[];
  firstSeen: string;
  lastSeen: string;
  createdAt: string;
  updatedAt: string;
  version: number;
  merges: Array<Omit<MergeRecord, 'fromSnapshot' | 'at'> & { at: string }>;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Read side of profiles, for the HTTP API (handlers call this, never the store). */
export class ProfileQueries {
  private readonly segmentNames: Set<string>;

  constructor(
    private readonly reader: StoreReader,
    private readonly settings: { computedTraits: ComputedTraitConfig[]; segments: SegmentConfig[] },
    private readonly now: () => number,
  ) {
    this.segmentNames = new Set(settings.segments.map((s) => s.name));
  }

  async resolve(identifier: string): Promise<string> {
    let id = await this.reader.resolveProfileId(identifier);
    // Identifiers are stored normalised (emails lower-cased, phones as digits): look those up too.
    for (const kind of ['email', 'phone']) {
      if (id !== undefined) break;
      const normal = normalizeIdentifier(kind, identifier);
      if (normal !== undefined && normal !== identifier)
        id = await this.reader.resolveProfileId(`${kind}:${normal}`);
    }
    if (id === undefined) throw new PathwiseError('PW_ERR_PROFILE_NOT_FOUND', JSON.stringify(identifier));
    return id;
  }

  async get(identifier: string): Promise<ProfileView> {
    const id = await this.resolve(identifier);
    const [profile, identities, merges] = await Promise.all([
      this.reader.getProfile(id),
      this.reader.identitiesOf(id),
      this.reader.merges(id),
    ]);
    if (!profile) throw new PathwiseError('PW_ERR_PROFILE_NOT_FOUND', JSON.stringify(identifier));
    const computed: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(computedValues(profile, this.settings.computedTraits, this.now()))) {
      computed[k] = v instanceof Date ? v.toISOString() : v;
    }
    return {
      id: profile.id,
      identities,
      traits: profile.traits,
      computed,
      segments: profile.segments,
      firstSeen: iso(profile.firstSeen),
      lastSeen: iso(profile.lastSeen),
      createdAt: iso(profile.createdAt),
      updatedAt: iso(profile.updatedAt),
      version: profile.version,
      merges: merges.map(({ fromSnapshot: _s, at, ...m }) => ({ ...m, at: iso(at) })),
    };
  }

  async timeline(identifier: string, opts: { cursor?: string; limit: number }) {
    const id = await this.resolve(identifier);
    const page = await this.reader.timeline(id, opts);
    return { profileId: id, ...page, items: page.items.map(timelineView) };
  }

  async inSegment(segment: string, opts: { cursor?: string; limit: number }): Promise<Page<string>> {
    if (!this.segmentNames.has(segment)) {
      throw new PathwiseError(
        'PW_ERR_QUERY_INVALID',
        `segment "${segment}" is not declared in the config (known: ${[...this.segmentNames].join(', ') || 'none'})`,
        { field: 'segment' },
      );
    }
    return this.reader.profilesInSegment(segment, opts);
  }
}

/** A timeline entry as the API shows it: every time as an ISO-8601 string, like the rest of the API. */
export const timelineView = (item: TimelineItem) => {
  if (item.kind === 'merge')
    return { ...item, at: iso(item.at), merge: { ...item.merge, at: iso(item.merge.at) } };
  if (item.kind === 'decision') {
    const d = item.decision;
    return {
      ...item,
      at: iso(item.at),
      decision: {
        ...d,
        sendAt: d.sendAt === null ? null : iso(d.sendAt),
        ...(d.resolution === undefined ? {} : { resolution: { ...d.resolution, at: iso(d.resolution.at) } }),
      },
    };
  }
  const { timestamp, receivedAt, sentAt, originalTimestamp, ...rest } = item.event;
  return {
    ...item,
    at: iso(item.at),
    event: {
      ...rest,
      timestamp: iso(timestamp),
      receivedAt: iso(receivedAt),
      ...(sentAt === undefined ? {} : { sentAt: iso(sentAt) }),
      ...(originalTimestamp === undefined ? {} : { originalTimestamp: iso(originalTimestamp) }),
    },
  };
};
