import { randomBytes } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import type { IdentityKey } from '../../domain/index.js';
import { PROFILE_ID_KIND, SALT_BYTES, tombstoneHash } from '../erasure.js';
import type { ErasureReceipt } from '../store.js';
import { findPerson, IN_LIST, preparePersonStatements } from './person.js';
import type { WriteCache } from './write-cache.js';

type Db = BetterSqlite3.Database;

/** Erasure's statements, prepared once with the writer's others (see writer.ts). */
export const preparePrivacyStatements = (db: Db) => ({
  ...preparePersonStatements(db),
  // SQLite overwrites what a statement deletes with zeros while this is on, so erased rows do not linger in
  // free space of the file. Only erasures pay for it: it is switched off again when they are done. (Not a
  // prepared statement: this pragma takes effect when it is compiled, not when it runs.)
  secureDelete: (on: boolean): void => {
    db.pragma(`secure_delete = ${on ? 1 : 0}`);
  },
  eraseEvents: db.prepare<[string]>(`DELETE FROM events WHERE profile_id IN ${IN_LIST}`),
  eraseIdentities: db.prepare<[string]>(`DELETE FROM identities WHERE profile_id IN ${IN_LIST}`),
  eraseMemberships: db.prepare<[string]>(`DELETE FROM profile_segments WHERE profile_id IN ${IN_LIST}`),
  eraseProfiles: db.prepare<[string]>(`DELETE FROM profiles WHERE id IN ${IN_LIST}`),
  eraseMerges: db.prepare<[string, string]>(
    `DELETE FROM merges WHERE into_profile_id IN ${IN_LIST} OR from_profile_id IN ${IN_LIST}`,
  ),
  eraseOutcomes: db.prepare<[string, string]>(
    `DELETE FROM outcomes WHERE profile_id IN ${IN_LIST} OR decision_id IN ${IN_LIST}`,
  ),
  eraseDecisions: db.prepare<[string]>(`DELETE FROM decisions WHERE profile_id IN ${IN_LIST}`),
  eraseDeliveries: db.prepare<[string, string]>(
    `DELETE FROM deliveries WHERE profile_id IN ${IN_LIST} OR decision_id IN ${IN_LIST}`,
  ),
  eraseTimers: db.prepare<[string]>(`DELETE FROM timers WHERE profile_id IN ${IN_LIST}`),
  eraseDeadLetters: db.prepare<[string]>(`DELETE FROM dead_letters WHERE id IN ${IN_LIST}`),
  getSalt: db.prepare<[], Buffer>('SELECT salt FROM privacy_salt WHERE id = 1').pluck(),
  insertSalt: db.prepare<[Buffer]>('INSERT INTO privacy_salt (id, salt) VALUES (1, ?)'),
  insertTombstone: db.prepare<[string, string, number]>(
    'INSERT OR IGNORE INTO tombstones (hash, kind, erased_at) VALUES (?, ?, ?)',
  ),
  hasTombstone: db.prepare<[string], number>('SELECT 1 FROM tombstones WHERE hash = ?').pluck(),
});

export type PrivacyStatements = ReturnType<typeof preparePrivacyStatements>;

/** The salt, from the cache or the database; null while nothing was ever erased (no salt, no tombstones). */
const saltOf = (s: PrivacyStatements, cache: WriteCache): Buffer | null => {
  let salt = cache.salt;
  if (salt === undefined) {
    salt = s.getSalt.get() ?? null;
    cache.salt = salt;
  }
  return salt;
};

/**
 * Part of every ingest transaction, so it must be cheap: until the first erasure there is no salt and the
 * answer is known without a query or a hash. After it, an identity the write cache holds a link for is
 * skipped: an erasure deletes the links it tombstones and clears the cache, and a tombstoned identity is
 * never linked again, so only identities not seen lately cost a hash and a lookup.
 */
export const isTombstoned = (s: PrivacyStatements, cache: WriteCache, keys: IdentityKey[]): boolean => {
  if (keys.length === 0) return false;
  const salt = saltOf(s, cache);
  if (salt === null) return false;
  return keys.some(
    (k) =>
      cache.identity(`${k.kind}:${k.value}`) === undefined &&
      s.hasTombstone.get(tombstoneHash(salt, k)) !== undefined,
  );
};

export const forget = (
  s: PrivacyStatements,
  cache: WriteCache,
  id: string,
  at: number,
): ErasureReceipt | undefined => {
  const person = findPerson(s, id);
  if (person === undefined) return undefined;
  let salt = saltOf(s, cache);
  if (salt === null) {
    salt = randomBytes(SALT_BYTES);
    s.insertSalt.run(salt);
    cache.salt = salt;
  }
  const keys: IdentityKey[] = [
    ...person.identities,
    ...person.profileIds.map((value) => ({ kind: PROFILE_ID_KIND, value })),
  ];
  let tombstones = 0;
  for (const k of keys) tombstones += s.insertTombstone.run(tombstoneHash(salt, k), k.kind, at).changes;

  const ids = person.profileIdsJson;
  const decisions = JSON.stringify(person.decisionIds);
  s.secureDelete(true);
  try {
    const removed = {
      profiles: s.eraseProfiles.run(ids).changes,
      identities: s.eraseIdentities.run(ids).changes,
      events: s.eraseEvents.run(ids).changes,
      merges: s.eraseMerges.run(ids, ids).changes,
      segmentMemberships: s.eraseMemberships.run(ids).changes,
      decisions: s.eraseDecisions.run(ids).changes,
      outcomes: s.eraseOutcomes.run(ids, decisions).changes,
      timers: s.eraseTimers.run(ids).changes,
      deliveries: s.eraseDeliveries.run(ids, decisions).changes,
      deadLetters: s.eraseDeadLetters.run(JSON.stringify(person.deadLetterIds)).changes,
      tombstones,
    };
    const tombstone = tombstoneHash(salt, { kind: PROFILE_ID_KIND, value: person.profileId });
    return { profileId: person.profileId, tombstone, erasedAt: at, removed };
  } finally {
    s.secureDelete(false);
    // Cached profile rows and identity links of the erased profiles must not outlive them.
    const keep = cache.salt;
    cache.clear();
    cache.salt = keep;
  }
};
