import { describe, expect, it } from 'vitest';
import { Needles, rawIdentifiers, tombstoneHash } from '../../src/store/erasure.js';

describe('erasure rules shared by every store', () => {
  it('tombstoneHash is a keyed HMAC of kind:value: stable per salt, different across salts and kinds', () => {
    const salt = Buffer.alloc(32, 7);
    const h = tombstoneHash(salt, { kind: 'email', value: 'ada@example.com' });
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(tombstoneHash(salt, { kind: 'email', value: 'ada@example.com' })).toBe(h);
    expect(tombstoneHash(Buffer.alloc(32, 8), { kind: 'email', value: 'ada@example.com' })).not.toBe(h);
    expect(tombstoneHash(salt, { kind: 'userId', value: 'ada@example.com' })).not.toBe(h);
    expect(h).not.toContain('ada');
  });

  it('matches long needles anywhere (case-insensitive), short ones only as a whole JSON value', () => {
    const n = new Needles(['Ada@Example.com', 'u1', '42']);
    expect(n.matches('{"traits":{"email":"ADA@example.COM"}}')).toBe(true);
    expect(n.matches('not json at all, ada@example.com inside')).toBe(true);
    expect(n.matches('{"userId":"u1"}')).toBe(true);
    expect(n.matches('{"n":42}')).toBe(true);
    expect(n.matches('{"items":[{"id":" U1 "}]}')).toBe(true);
    expect(n.matches('{"userId":"menu1","total":420}')).toBe(false);
    expect(n.matches('u1 in plain text')).toBe(false);
    expect(n.matches(null)).toBe(false);
    expect(n.matches('')).toBe(false);
  });

  it('matches a phone number written with any separators, but not short digit runs', () => {
    const n = new Needles([], ['+442079460123']);
    expect(n.matches('{"phone":"+44 (20) 7946-0123"}')).toBe(true);
    expect(n.matches('call 44 20 7946 0123 now')).toBe(true);
    expect(n.matches('{"phone":"+44 20 7946 0124"}')).toBe(false);
    expect(new Needles([], ['12-34']).matches('{"x":"1234"}')).toBe(false);
  });

  it('rawIdentifiers reads identifier traits as sent, from traits and context.traits, and previousId', () => {
    const kinds = new Set(['email', 'phone']);
    expect(
      rawIdentifiers(
        {
          traits: { email: 'Ada@Example.com', name: 'Ada' },
          context: { traits: { phone: '+44 20 7946 0123' } },
          previousId: 'old-id',
        },
        kinds,
      ),
    ).toEqual(['Ada@Example.com', '+44 20 7946 0123', 'old-id']);
    expect(rawIdentifiers({ traits: ['x'], context: null }, kinds)).toEqual([]);
  });
});
