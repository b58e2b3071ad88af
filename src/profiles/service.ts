import {
  INTERNAL_SOURCE,
  SEGMENT_ENTERED,
  SEGMENT_EXITED,
  type JsonObject,
  type MergeRecord,
  type PathwiseEvent,
} from '../domain/index.js';
import type { ComputedTraitConfig, IdentityConfig, SegmentConfig } from '../config/schema.js';
import type { StoreWriter } from '../store/store.js';
import {
  applyComputed,
  compileSegments,
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

    const { members, entered, exited } = evaluateSegments(
      profile,
      this.segments,
      this.settings.computedTraits,
      now,
    );
    profile.segments = members;
    profile.version += 1;
    profile.updatedAt = now;
    await w.saveProfile(profile);

    const seq = await w.appendEvent({
      ...event,
      profileId: profile.id,
      ...(violations?.length ? { violations } : {}),
    });
    for (const [name, list] of [
      [SEGMENT_ENTERED, entered],
      [SEGMENT_EXITED, exited],
    ] as const) {
      for (const segment of list) {
        await w.appendEvent({
          // Deterministic id: the same source event can never produce the same segment change twice.
          messageId: `seg:${event.source}:${event.messageId}:${segment}:${name === SEGMENT_ENTERED ? 'in' : 'out'}`,
          source: INTERNAL_SOURCE,
          type: 'track',
          event: name,
          timestamp: event.timestamp,
          receivedAt: now,
          properties: { segment, cause: `${event.source}:${event.messageId}` },
          traits: {},
          context: {},
          profileId: profile.id,
        });
      }
    }
    return { seq, profileId: profile.id, isNewProfile: isNew, merges, entered, exited };
  }
}
