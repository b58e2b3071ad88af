import type { ProfileRow } from './schema.js';

/**
 * Rows the writer has read or written recently, kept across transactions so the hot path skips a SELECT per
 * profile and identity lookup. Rows are cached as stored (JSON text), so callers never share mutable objects.
 * Coherence: the store clears it after a rollback, and whenever SQLite's `data_version` shows that another
 * connection (another process, e.g. `pathwise import` beside `pathwise serve`) committed since our last look.
 */
export class WriteCache {
  private readonly profiles: Generational<ProfileRow>;
  private readonly identities: Generational<string>;
  private readonly kinds = new Set<string>();
  /**
   * The erasure salt: undefined until looked up, null while the database has none (nothing was ever erased,
   * so no identifier is tombstoned and ingest skips the check).
   */
  salt: Buffer | null | undefined;

  constructor(maxProfiles: number, maxIdentities: number) {
    this.profiles = new Generational(maxProfiles);
    this.identities = new Generational(maxIdentities);
  }

  profile(id: string): ProfileRow | undefined {
    return this.profiles.get(id);
  }

  setProfile(row: ProfileRow): void {
    this.profiles.set(row.id, row);
  }

  dropProfile(id: string): void {
    this.profiles.delete(id);
  }

  identity(key: string): string | undefined {
    return this.identities.get(key);
  }

  setIdentity(key: string, profileId: string): void {
    this.identities.set(key, profileId);
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
    this.salt = undefined;
  }
}

/**
 * A bounded map in two generations: writes go to the young one; when it is full it becomes the old one and
 * the previous old one is dropped whole. A hit in the old generation moves the entry to the young one, so
 * entries in use survive. O(1) everything, at most 2 × max entries, and unlike evicting a Map's first key
 * one by one it never walks over the holes that deletions leave in V8's ordered hash tables.
 */
class Generational<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();

  constructor(private readonly max: number) {}

  get(key: string): V | undefined {
    const hit = this.young.get(key);
    if (hit !== undefined) return hit;
    const aged = this.old.get(key);
    if (aged !== undefined) this.set(key, aged);
    return aged;
  }

  set(key: string, value: V): void {
    if (this.young.size >= this.max && !this.young.has(key)) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }

  delete(key: string): void {
    this.young.delete(key);
    this.old.delete(key);
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }
}
