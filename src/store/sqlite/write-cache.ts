import type { ProfileRow } from './schema.js';

/**
 * Rows the writer has read or written recently, kept across transactions so the hot path skips a SELECT per
 * profile and identity lookup. Rows are cached as stored (JSON text), so callers never share mutable objects.
 * Coherence: the store clears it after a rollback, and whenever SQLite's `data_version` shows that another
 * connection (another process, e.g. `pathwise import` beside `pathwise serve`) committed since our last look.
 */
export class WriteCache {
  private readonly profiles = new Map<string, ProfileRow>();
  private readonly identities = new Map<string, string>();
  private readonly kinds = new Set<string>();

  constructor(
    private readonly maxProfiles: number,
    private readonly maxIdentities: number,
  ) {}

  profile(id: string): ProfileRow | undefined {
    return this.profiles.get(id);
  }

  setProfile(row: ProfileRow): void {
    bounded(this.profiles, row.id, row, this.maxProfiles);
  }

  dropProfile(id: string): void {
    this.profiles.delete(id);
  }

  identity(key: string): string | undefined {
    return this.identities.get(key);
  }

  setIdentity(key: string, profileId: string): void {
    bounded(this.identities, key, profileId, this.maxIdentities);
  }

  /** Identity kinds recorded in `identity_kinds` (a handful: userId, anonymousId, email, …). */
  knowsKind(kind: string): boolean {
    return this.kinds.has(kind);
  }

  addKind(kind: string): void {
    this.kinds.add(kind);
  }

  clear(): void {
    this.profiles.clear();
    this.identities.clear();
    this.kinds.clear();
  }
}

/**
 * Insertion-ordered eviction: a Map iterates oldest-first, so dropping its first key when full keeps memory
 * bounded at O(1) per insert. Re-setting an existing key does not refresh its age; for a write-through
 * cache of a large customer base that is close enough to LRU and much cheaper.
 */
const bounded = <V>(map: Map<string, V>, key: string, value: V, max: number): void => {
  if (!map.has(key) && map.size >= max) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
};
