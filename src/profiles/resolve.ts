import {
  emptyProfile,
  identityKeyString,
  type IdentityKey,
  type MergeCause,
  type MergeRecord,
  type PathwiseEvent,
  type Profile,
} from '../domain/index.js';
import type { IdentityConfig } from '../config/index.js';
import type { StoreWriter } from '../store/index.js';
import { eventIdentities, mergeProfiles } from './core/index.js';

export interface Resolution {
  /** The profile the event belongs to, loaded or new; mutate it and save it. */
  profile: Profile;
  isNew: boolean;
  merges: MergeRecord[];
}

export interface ResolveDeps {
  newId: () => string;
  now: number;
}

/**
 * Identity resolution: finds (or creates) the one profile an event belongs to and merges the profiles its
 * identifiers prove to be the same person. Priority: the event's userId; else the profile of its
 * anonymousId, alias previousId or identifier traits, in that order. Two profiles holding different
 * userIds are a conflict, settled by `identity.conflict` and recorded either way.
 */
export const resolveProfile = async (
  w: StoreWriter,
  event: PathwiseEvent,
  cfg: IdentityConfig,
  deps: ResolveDeps,
): Promise<Resolution> => {
  const ids = eventIdentities(event, cfg.identifiers);
  const others: IdentityKey[] = [
    ...(ids.anonymousId ? [ids.anonymousId] : []),
    ...ids.previous,
    ...ids.traits,
  ];
  const found = await w.findProfileIds(ids.userId ? [ids.userId, ...others] : others);
  const profileOf = (k: IdentityKey) => found.get(identityKeyString(k));

  const userIdsCache = new Map<string, string[]>();
  const userIdsOf = async (profileId: string): Promise<string[]> => {
    let list = userIdsCache.get(profileId);
    if (list === undefined) {
      list = (await w.identitiesOf(profileId)).filter((k) => k.kind === 'userId').map((k) => k.value);
      userIdsCache.set(profileId, list);
    }
    return list;
  };

  // Choose the target profile.
  let targetId = ids.userId ? profileOf(ids.userId) : undefined;
  if (targetId === undefined) {
    for (const k of others) {
      const pid = profileOf(k);
      if (pid === undefined) continue;
      // A new userId may adopt an anonymous profile, but never one that already belongs to another user.
      if (ids.userId === undefined || (await userIdsOf(pid)).length === 0) {
        targetId = pid;
        break;
      }
    }
  }
  let profile = targetId === undefined ? undefined : await w.getProfile(targetId);
  const isNew = profile === undefined;
  if (profile === undefined) profile = emptyProfile(deps.newId(), event.timestamp);

  // The target's userIds matter only when another profile turns up: load them then, not on every event.
  let targetUsersLoaded: Set<string> | undefined;
  const targetUsersOf = async (): Promise<Set<string>> => {
    if (targetUsersLoaded === undefined) {
      targetUsersLoaded = new Set(isNew ? [] : await userIdsOf(target.id));
      if (ids.userId) targetUsersLoaded.add(ids.userId.value);
    }
    return targetUsersLoaded;
  };
  const target = profile;

  const merges: MergeRecord[] = [];
  const toLink: IdentityKey[] = [];
  const settled = new Set<string>([profile.id]);
  const cause: MergeCause = event.type === 'alias' ? 'alias' : 'identify';

  const consider = async (key: IdentityKey, why: MergeCause, linkIfUnknown: boolean) => {
    const other = profileOf(key);
    if (other === undefined) {
      if (linkIfUnknown) toLink.push(key);
      return;
    }
    // Already the target, already merged, or refused above (then the link stays where it is).
    if (settled.has(other)) return;
    settled.add(other);
    const otherUsers = await userIdsOf(other);
    const targetUsers = await targetUsersOf();
    const conflict = targetUsers.size > 0 && otherUsers.some((u) => !targetUsers.has(u));
    // An alias is the sender saying outright that two ids are one person (e.g. a renamed userId):
    // it merges even where the conflict rule would keep two userIds apart.
    const explicit = why === 'alias';
    if (conflict && !explicit && cfg.conflict === 'keep-separate') {
      merges.push(
        record(
          event,
          deps.now,
          why,
          profile.id,
          other,
          'refused',
          conflictReason(targetUsers, otherUsers),
          null,
        ),
      );
      return;
    }
    const from = await w.getProfile(other);
    const snapshot = from
      ? { profile: structuredClone(from), identities: await w.identitiesOf(other) }
      : null;
    await w.foldProfile(other, profile.id, deps.now);
    if (from) mergeProfiles(profile, from);
    const reason = conflict
      ? `merged despite ${conflictReason(targetUsers, otherUsers)} (${explicit ? 'explicit alias' : 'identity.conflict: merge'})`
      : `${key.kind} "${key.value}" links both profiles`;
    merges.push(record(event, deps.now, why, profile.id, other, 'merged', reason, snapshot));
    for (const u of otherUsers) targetUsers.add(u);
  };

  if (ids.userId) await consider(ids.userId, cause, true);
  if (ids.anonymousId) await consider(ids.anonymousId, cause, true);
  // previousId was looked up as both a userId and an anonymousId; if unknown, remember it as anonymous.
  for (const k of ids.previous) await consider(k, 'alias', false);
  if (ids.previous.length > 0 && ids.previous.every((k) => profileOf(k) === undefined)) {
    toLink.push({ kind: 'anonymousId', value: ids.previous[0]?.value ?? '' });
  }
  for (const k of ids.traits) await consider(k, 'identifier-trait', true);

  if (toLink.length > 0) await w.linkIdentities(profile.id, toLink, deps.now);
  return { profile, isNew, merges };
};

const conflictReason = (a: Set<string>, b: string[]): string =>
  `conflicting userIds ${JSON.stringify([...a])} vs ${JSON.stringify(b)}`;

const record = (
  event: PathwiseEvent,
  at: number,
  cause: MergeCause,
  intoProfileId: string,
  fromProfileId: string,
  outcome: MergeRecord['outcome'],
  reason: string,
  fromSnapshot: MergeRecord['fromSnapshot'],
): MergeRecord => ({
  id: `${event.source}:${event.messageId}:${fromProfileId}`,
  at,
  cause,
  intoProfileId,
  fromProfileId,
  outcome,
  messageId: event.messageId,
  source: event.source,
  reason,
  fromSnapshot,
});
