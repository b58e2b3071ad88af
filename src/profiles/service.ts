import {
  INTERNAL_SOURCE,
  SEGMENT_ENTERED,
  SEGMENT_EXITED,
  type JsonObject,
  type MergeRecord,
  type PathwiseEvent,
  type Profile,
} from '../domain/index.js';
import type { ComputedTraitConfig, IdentityConfig, SegmentConfig } from '../config/index.js';
import type { StoreWriter } from '../store/index.js';
import {
  applyComputed,
  compileSegments,
  eventIdentities,
  evaluateSegments,
  mergeTraits,
  type CompiledSegment,
} from './core/index.js';
import { resolveProfile } from './resolve.js';

export interface ProfileSettings {
  identity: IdentityConfig;
  computedTraits: ComputedTraitConfig[];
  segments: SegmentConfig[];
}

export interface Applied {
  seq: number;
  profileId: string;
  isNewProfile: boolean;
  merges: MergeRecord[];
  entered: string[];
  exited: string[];
}

const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Turns one accepted event into profile state, inside the caller's store transaction: identity resolution
 * and merges, traits, computed traits, segment membership (with Segment Entered/Exited events), and the
 * event appended to the log under its profile. The caller has already checked the event is no duplicate.
 */
export class ProfileService {
  private readonly segments: CompiledSegment[];

  constructor(
    private readonly settings: ProfileSettings,
    private readonly deps: { newId: () => string; now: () => number },
  ) {
    this.segments = compileSegments(settings.segments);
  }

  /**
   * Whether the event names a person who was erased (any of its identifiers is tombstoned): such an event is
   * dropped, never applied, so an erased person does not come back as a new profile from late events.
   */
  async isErased(w: StoreWriter, event: PathwiseEvent): Promise<boolean> {
    const ids = eventIdentities(event, this.settings.identity.identifiers);
    return w.isTombstoned([
      ...(ids.userId ? [ids.userId] : []),
      ...(ids.anonymousId ? [ids.anonymousId] : []),
      ...ids.previous,
      ...ids.traits,
    ]);
  }

  async apply(w: StoreWriter, event: PathwiseEvent, violations?: string[]): Promise<Applied> {
    const now = this.deps.now();
    const { profile, isNew, merges } = await resolveProfile(w, event, this.settings.identity, {
      newId: this.deps.newId,
      now,
    });

    for (const merge of merges) await w.recordMerge(merge);

    if (event.type === 'identify' && isObject(event.traits))
      mergeTraits(profile, event.traits, event.timestamp);
    // Segment clients attach the user's known traits to every call as context.traits.
    if (isObject(event.context.traits)) mergeTraits(profile, event.context.traits, event.timestamp);
    profile.firstSeen = Math.min(profile.firstSeen, event.timestamp);
    profile.lastSeen = Math.max(profile.lastSeen, event.timestamp);
    applyComputed(profile, event, this.settings.computedTraits, now);

    const { members, entered, exited } = this.evaluate(profile, now);
    await this.save(w, profile, members, now);

    const seq = await w.appendEvent({
      ...event,
      profileId: profile.id,
      ...(violations?.length ? { violations } : {}),
    });
    const cause = `${event.source}:${event.messageId}`;
    await this.recordSegmentChanges(w, profile.id, { entered, exited }, cause, event.timestamp, now);
    return { seq, profileId: profile.id, isNewProfile: isNew, merges, entered, exited };
  }

  /**
   * Creates the profile for identifiers no profile holds yet (a decision asked for an unknown customer), linking
   * them, without writing an event. Returns the existing profile when one of them is already known.
   */
  async ensure(
    w: StoreWriter,
    ids: { userId?: string; anonymousId?: string },
    source: string,
    /** The id a new profile gets (a caller that already decided for it); a fresh one otherwise. */
    newProfileId?: string,
  ): Promise<Profile> {
    const now = this.deps.now();
    const probe: PathwiseEvent = {
      messageId: `ensure:${this.deps.newId()}`,
      source,
      type: 'track',
      event: 'Decision Requested',
      ...(ids.userId === undefined ? {} : { userId: ids.userId }),
      ...(ids.anonymousId === undefined ? {} : { anonymousId: ids.anonymousId }),
      timestamp: now,
      receivedAt: now,
      properties: {},
      traits: {},
      context: {},
    };
    const { profile, isNew, merges } = await resolveProfile(w, probe, this.settings.identity, {
      newId: newProfileId === undefined ? this.deps.newId : () => newProfileId,
      now,
    });
    for (const merge of merges) await w.recordMerge(merge);
    if (isNew || merges.length > 0) {
      const { members } = this.evaluate(profile, now);
      await this.save(w, profile, members, now);
    }
    return profile;
  }

  /**
   * Re-evaluates one profile's segments at the current time, without an event: time-windowed traits age and
   * segment definitions change, so membership can change while a customer is silent. Saves and records
   * Segment Entered/Exited only when membership changed. Returns the changes.
   */
  async refresh(w: StoreWriter, profileId: string): Promise<{ entered: string[]; exited: string[] }> {
    const profile = await w.getProfile(profileId);
    if (profile === undefined) return { entered: [], exited: [] };
    const now = this.deps.now();
    const { members, entered, exited } = this.evaluate(profile, now);
    if (entered.length === 0 && exited.length === 0) return { entered, exited };
    await this.save(w, profile, members, now);
    await this.recordSegmentChanges(
      w,
      profile.id,
      { entered, exited },
      `refresh:${profile.version}`,
      now,
      now,
    );
    return { entered, exited };
  }

  private evaluate(profile: Profile, now: number) {
    return evaluateSegments(profile, this.segments, this.settings.computedTraits, now);
  }

  /** Every write of a profile goes through here: new membership, next version, stamped with the time. */
  private async save(w: StoreWriter, profile: Profile, members: string[], now: number): Promise<void> {
    profile.segments = members;
    profile.version += 1;
    profile.updatedAt = now;
    await w.saveProfile(profile);
  }

  private async recordSegmentChanges(
    w: StoreWriter,
    profileId: string,
    changes: { entered: string[]; exited: string[] },
    cause: string,
    at: number,
    now: number,
  ): Promise<void> {
    for (const [name, list] of [
      [SEGMENT_ENTERED, changes.entered],
      [SEGMENT_EXITED, changes.exited],
    ] as const) {
      for (const segment of list) {
        await w.appendEvent({
          // Deterministic id: the same cause can never record the same segment change twice.
          messageId: `seg:${profileId}:${cause}:${segment}:${name === SEGMENT_ENTERED ? 'in' : 'out'}`,
          source: INTERNAL_SOURCE,
          type: 'track',
          event: name,
          timestamp: at,
          receivedAt: now,
          properties: { segment, cause },
          traits: {},
          context: {},
          profileId,
        });
      }
    }
  }
}
