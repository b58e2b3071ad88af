import type BetterSqlite3 from 'better-sqlite3';
import type { IdentityKey } from '../../domain/index.js';
import { Needles, rawIdentifiers } from '../erasure.js';
import type { DeadLetterRow } from './schema.js';

type Db = BetterSqlite3.Database;

/** Merge pointers can only chain as far as profiles were folded; a longer walk means a corrupt cycle. */
const MAX_HOPS = 64;

/** `IN (…)` over a JSON array parameter: one prepared statement serves any number of ids. */
export const IN_LIST = '(SELECT value FROM json_each(?))';

/** Reads that find every record of one person; prepared on the writer (erase) and the reader (export). */
export const preparePersonStatements = (db: Db) => ({
  personMergedInto: db.prepare<[string], { merged_into: string | null }>(
    'SELECT merged_into FROM profiles WHERE id = ?',
  ),
  // Folds re-point older pointers at the survivor, but walk the chain anyway: a pointer row is cheap to find.
  personFamily: db
    .prepare<[string], string>(
      `WITH RECURSIVE fam(id) AS (SELECT ? UNION SELECT p.id FROM profiles p JOIN fam ON p.merged_into = fam.id)
       SELECT id FROM fam`,
    )
    .pluck(),
  personTraits: db.prepare<[string], string>('SELECT traits FROM profiles WHERE id = ?').pluck(),
  personIdentities: db.prepare<[string], IdentityKey>(
    `SELECT kind, value FROM identities WHERE profile_id IN ${IN_LIST} ORDER BY created_at, kind, value`,
  ),
  personEventIds: db.prepare<[string], { user_id: string | null; anonymous_id: string | null; body: string }>(
    `SELECT user_id, anonymous_id, body FROM events WHERE profile_id IN ${IN_LIST}`,
  ),
  personDecisionIds: db
    .prepare<[string], string>(`SELECT id FROM decisions WHERE profile_id IN ${IN_LIST} ORDER BY at, seq`)
    .pluck(),
  personDeadLetters: db.prepare<[], Pick<DeadLetterRow, 'id' | 'field' | 'reason' | 'payload'>>(
    'SELECT id, field, reason, payload FROM dead_letters ORDER BY id',
  ),
});

export type PersonStatements = ReturnType<typeof preparePersonStatements>;

/** Every key of one person's records: what an erasure deletes and an export reads. */
export interface Person {
  /** The live profile. */
  profileId: string;
  /** The live profile first, then every profile merged into it. */
  profileIds: string[];
  /** JSON array of `profileIds`, the parameter of `IN_LIST` statements. */
  profileIdsJson: string;
  identities: IdentityKey[];
  decisionIds: string[];
  deadLetterIds: number[];
}

/** The live profile an id leads to (following merge pointers); undefined when none is stored. */
const liveProfile = (s: PersonStatements, id: string): string | undefined => {
  let current = id;
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    const row = s.personMergedInto.get(current);
    if (row === undefined) return undefined;
    if (row.merged_into === null) return current;
    current = row.merged_into;
  }
  throw new Error(`merge pointers from profile ${id} do not end after ${MAX_HOPS} hops`);
};

/**
 * Finds one person's records. Dead letters are not keyed by profile, so every one is read and kept if it names
 * one of the person's identifiers (stored or as sent), profile ids or decision ids: an erasure reads the whole
 * dead-letter table once, which is bounded by what rejected traffic stored (payloads are capped at 64 KiB).
 */
export const findPerson = (s: PersonStatements, id: string): Person | undefined => {
  const profileId = liveProfile(s, id);
  if (profileId === undefined) return undefined;
  const profileIds = s.personFamily.all(profileId);
  const profileIdsJson = JSON.stringify(profileIds);
  const identities = s.personIdentities.all(profileIdsJson);
  const decisionIds = s.personDecisionIds.all(profileIdsJson);

  const kinds = new Set(['email', 'phone', ...identities.map((k) => k.kind)]);
  const values = new Set<string>([...profileIds, ...decisionIds, ...identities.map((k) => k.value)]);
  const phones = new Set(identities.filter((k) => k.kind === 'phone').map((k) => k.value));
  const addRaw = (body: Record<string, unknown>) => {
    for (const v of rawIdentifiers(body, kinds)) values.add(v);
    const traits = body.traits as Record<string, unknown> | undefined;
    const ctx = (body.context as { traits?: Record<string, unknown> } | undefined)?.traits;
    for (const p of [traits?.phone, ctx?.phone]) if (typeof p === 'string') phones.add(p);
  };
  const traits = s.personTraits.get(profileId);
  if (traits !== undefined) addRaw({ traits: JSON.parse(traits) as unknown });
  for (const e of s.personEventIds.iterate(profileIdsJson)) {
    if (e.user_id !== null) values.add(e.user_id);
    if (e.anonymous_id !== null) values.add(e.anonymous_id);
    addRaw(JSON.parse(e.body) as Record<string, unknown>);
  }
  const needles = new Needles(values, phones);
  const deadLetterIds: number[] = [];
  for (const d of s.personDeadLetters.iterate()) {
    if (needles.matches(d.payload) || needles.matches(d.field) || needles.matches(d.reason))
      deadLetterIds.push(d.id);
  }
  return { profileId, profileIds, profileIdsJson, identities, decisionIds, deadLetterIds };
};
