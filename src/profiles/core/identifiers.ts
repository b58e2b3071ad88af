import type { IdentityKey, PathwiseEvent } from '../../domain/index.js';

/**
 * Identifier values are normalised so the same person matches across sources: emails are trimmed and
 * lower-cased; phone numbers keep digits and a leading +. Other identifiers are trimmed only.
 */
export const normalizeIdentifier = (kind: string, value: unknown): string | undefined => {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const text = String(value).trim();
  if (text === '') return undefined;
  if (kind === 'email') return text.includes('@') ? text.toLowerCase() : undefined;
  if (kind === 'phone') {
    const digits = text.replace(/[^\d+]/g, '').replace(/(?!^)\+/g, '');
    return digits.replace(/\D/g, '').length >= 5 ? digits : undefined;
  }
  return text;
};

/** The identities an event names, in priority order: userId, anonymousId, alias previousId, identifier traits. */
export interface EventIdentities {
  userId?: IdentityKey;
  anonymousId?: IdentityKey;
  /** `alias` only: previousId may have been a userId or an anonymousId, so both are looked up. */
  previous: IdentityKey[];
  traits: IdentityKey[];
}

export const eventIdentities = (e: PathwiseEvent, identifierTraits: readonly string[]): EventIdentities => {
  const out: EventIdentities = { previous: [], traits: [] };
  if (e.userId !== undefined) out.userId = { kind: 'userId', value: e.userId };
  if (e.anonymousId !== undefined) out.anonymousId = { kind: 'anonymousId', value: e.anonymousId };
  if (e.type === 'alias' && e.previousId !== undefined) {
    out.previous.push({ kind: 'userId', value: e.previousId }, { kind: 'anonymousId', value: e.previousId });
  }
  // Group traits describe the account, not the person: they never identify a person.
  const traitSources = e.type === 'group' ? [e.context.traits] : [e.traits, e.context.traits];
  for (const kind of identifierTraits) {
    for (const src of traitSources) {
      if (src === null || typeof src !== 'object' || Array.isArray(src)) continue;
      const value = normalizeIdentifier(kind, (src as Record<string, unknown>)[kind]);
      if (value !== undefined && !out.traits.some((k) => k.kind === kind && k.value === value)) {
        out.traits.push({ kind, value });
      }
    }
  }
  return out;
};
