import { createHmac } from 'node:crypto';
import type { IdentityKey } from '../domain/index.js';

/**
 * Engine-neutral parts of erasure, shared by every Store adapter so they erase and export the same records:
 * the tombstone hash, and the rule that says whether a free-text record (a dead letter) names the person.
 */

/** The identity kind a tombstone uses for a profile id, so an erased profile id is recognised too. */
export const PROFILE_ID_KIND = 'profileId';

/** Bytes of the per-database random salt. */
export const SALT_BYTES = 32;

/** HMAC-SHA256 of `kind:value` keyed with the database's salt, as hex: what a tombstone keeps. */
export const tombstoneHash = (salt: Uint8Array, key: IdentityKey): string =>
  createHmac('sha256', salt).update(`${key.kind}:${key.value}`).digest('hex');

/**
 * Needles shorter than this match a record only as a whole JSON value, never as a substring: a userId `42`
 * must not erase every dead letter that contains the digits 42.
 */
const MIN_SUBSTRING = 6;

const digitsOf = (s: string): string => s.replace(/\D/g, '');

/**
 * The strings that identify one person (identifier values as stored and as sent, profile ids, decision ids),
 * and the test of whether a text names any of them. Case-insensitive. A phone number also matches when it is
 * written with other separators (`+44 20 7946 0000` and `+442079460000`).
 */
export class Needles {
  private readonly exact = new Set<string>();
  private readonly long: string[] = [];
  private readonly phoneDigits = new Set<string>();

  constructor(values: Iterable<string>, phones: Iterable<string> = []) {
    for (const v of values) {
      const lower = v.trim().toLowerCase();
      if (lower === '') continue;
      this.exact.add(lower);
      if (lower.length >= MIN_SUBSTRING) this.long.push(lower);
    }
    for (const p of phones) {
      const d = digitsOf(p);
      // Fewer digits than a phone number has would match dates and counts.
      if (d.length >= 7) this.phoneDigits.add(d);
    }
  }

  get size(): number {
    return this.exact.size + this.phoneDigits.size;
  }

  /** Whether `text` names the person: as a substring (long needles), or as one JSON value (any needle). */
  matches(text: string | null | undefined): boolean {
    if (text === null || text === undefined || text === '') return false;
    const lower = text.toLowerCase();
    for (const n of this.long) if (lower.includes(n)) return true;
    if (this.phoneDigits.size > 0) {
      // Runs of digits with the separators people write phone numbers with.
      for (const run of lower.match(/\+?\d[\d\s().-]{5,}\d/g) ?? []) {
        if (this.phoneDigits.has(digitsOf(run))) return true;
      }
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return false;
    }
    return this.inValue(parsed, 0);
  }

  private inValue(v: unknown, depth: number): boolean {
    if (depth > 64) return false;
    if (typeof v === 'string' || typeof v === 'number') return this.exact.has(String(v).trim().toLowerCase());
    if (Array.isArray(v)) return v.some((x) => this.inValue(x, depth + 1));
    if (v !== null && typeof v === 'object') return Object.values(v).some((x) => this.inValue(x, depth + 1));
    return false;
  }
}

/**
 * The identifier values an event body carries as sent (before normalisation): the traits named like an
 * identity kind, in `traits` and `context.traits`, and an alias's `previousId`.
 */
export const rawIdentifiers = (
  body: { traits?: unknown; context?: unknown; previousId?: unknown },
  kinds: ReadonlySet<string>,
): string[] => {
  const out: string[] = [];
  const context = body.context as { traits?: unknown } | null | undefined;
  for (const src of [body.traits, context?.traits]) {
    if (src === null || typeof src !== 'object' || Array.isArray(src)) continue;
    for (const [k, v] of Object.entries(src as Record<string, unknown>)) {
      if (kinds.has(k) && (typeof v === 'string' || typeof v === 'number')) out.push(String(v));
    }
  }
  if (typeof body.previousId === 'string') out.push(body.previousId);
  return out;
};
