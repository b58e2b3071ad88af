import { describe, expect, it } from 'vitest';
import { biasIndex, hashFeatures, localHour, type FeatureInput } from '../../src/learn/index.js';
import type { SparseFeatures } from '../../src/domain/decision.js';

const BITS = 18;
/** Monday 2026-01-05 12:00 UTC. */
const MONDAY_NOON = Date.UTC(2026, 0, 5, 12, 0);

const base = (over: Partial<FeatureInput> = {}): FeatureInput => ({
  traits: {},
  computed: {},
  segments: [],
  at: MONDAY_NOON,
  ...over,
});

/** The features as a slot → value map (order-free comparison). */
const asMap = (x: SparseFeatures): Map<number, number> => new Map(x.idx.map((i, k) => [i, x.val[k] ?? NaN]));

/** Entries of `b` that `a` does not have (or has with another value). */
const added = (a: SparseFeatures, b: SparseFeatures): number[] => {
  const m = asMap(a);
  return b.idx.flatMap((i, k) => (m.get(i) === b.val[k] ? [] : [b.val[k] ?? NaN]));
};

const rich: FeatureInput = {
  traits: {
    plan: 'pro',
    country: 'DE',
    ltv: 1234.5,
    vip: true,
    consent: { email: true, sms: false },
    interests: ['shoes', 'bags', 'shoes'],
  },
  computed: { orders: 3, favouriteCategory: 'shoes' },
  segments: ['vip', 'active'],
  event: { name: 'Product Viewed', properties: { category: 'shoes', price: 40 } },
  context: { page: 'home' },
  at: MONDAY_NOON,
  timeZone: 'Europe/Berlin',
  recent: [
    { channel: 'email', responded: false },
    { channel: 'email', responded: false },
    { channel: 'sms', responded: true },
  ],
};

describe('hashFeatures', () => {
  it('is deterministic and gives unique, in-range indices with finite values', () => {
    const a = hashFeatures(rich, BITS);
    hashFeatures(base({ traits: { other: 'call in between' } }), BITS);
    const b = hashFeatures(rich, BITS);
    expect(b).toEqual(a);
    expect(new Set(a.idx).size).toBe(a.idx.length);
    expect(a.idx.length).toBe(a.val.length);
    for (const i of a.idx) expect(i >= 0 && i < 2 ** BITS && Number.isInteger(i)).toBe(true);
    for (const v of a.val) expect(Number.isFinite(v)).toBe(true);
    // bias, plan, country, ltv, vip, 2 consent, 2 interests (tags merge), 2 computed, 2 segments, the event,
    // 2 properties, 1 context, how/hod/dow and 2 recent counts.
    expect(a.idx.length).toBe(22);
  });

  it('always has the bias feature with value 1', () => {
    const x = hashFeatures(base(), BITS);
    expect(asMap(x).get(biasIndex(BITS))).toBe(1);
    expect(x.idx.length).toBe(4); // bias, how, hod, dow
  });

  it('sums repeated features into one slot', () => {
    const x = hashFeatures(base({ traits: { tags: ['a', 'a', 'b'] } }), BITS);
    expect(added(hashFeatures(base(), BITS), x).sort()).toEqual([1, 2]);
  });

  it('skips identifier-like keys, long strings and dates', () => {
    const plain = hashFeatures(base(), BITS);
    const noisy = hashFeatures(
      base({
        traits: {
          email: 'ada@example.com',
          firstName: 'Ada',
          last_name: 'Lovelace',
          userId: 'u1',
          id: 7,
          phoneNumber: '+4912345',
          address: { city: 'Berlin' },
          accountId: 'acc_1',
          bio: 'x'.repeat(41),
          createdAt: '2024-03-01T10:00:00Z',
          empty: '',
          nothing: null,
        },
        computed: { firstSeen: new Date(0), lastOrderId: 'o_9' },
        event: { name: 'Viewed', properties: { productId: 'p1' } },
      }),
      BITS,
    );
    // Only the event name is new.
    expect(added(plain, noisy)).toEqual([1]);
  });

  it('keeps boolean flags under identifier-like names (consent per channel)', () => {
    const yes = hashFeatures(base({ traits: { consent: { email: true } } }), BITS);
    const no = hashFeatures(base({ traits: { consent: { email: false } } }), BITS);
    expect(yes).not.toEqual(no);
    expect(added(hashFeatures(base(), BITS), yes)).toEqual([1]);
  });

  it('squashes numbers to sign(x)·log1p(|x|), clipped to ±10', () => {
    const plain = hashFeatures(base(), BITS);
    expect(added(plain, hashFeatures(base({ traits: { ltv: 99 } }), BITS))).toEqual([Math.log1p(99)]);
    expect(added(plain, hashFeatures(base({ computed: { debt: -3 } }), BITS))).toEqual([-Math.log1p(3)]);
    expect(added(plain, hashFeatures(base({ traits: { huge: 1e300 } }), BITS))).toEqual([10]);
  });

  it('counts recent responses per channel as log1p', () => {
    const plain = hashFeatures(base(), BITS);
    const x = hashFeatures(
      base({
        recent: [
          { channel: 'email', responded: false },
          { channel: 'email', responded: false },
          { channel: 'email', responded: true },
        ],
      }),
      BITS,
    );
    expect(added(plain, x).sort()).toEqual([Math.log1p(1), Math.log1p(2)].sort());
  });

  it('sees the local hour of week, which differs between time zones for the same instant', () => {
    const tokyo = hashFeatures(base({ timeZone: 'Asia/Tokyo' }), BITS);
    const newYork = hashFeatures(base({ timeZone: 'America/New_York' }), BITS);
    expect(tokyo).not.toEqual(newYork);
    expect(localHour(MONDAY_NOON)).toEqual({ day: 1, hour: 12, hourOfWeek: 36 });
    expect(localHour(MONDAY_NOON, 'Asia/Tokyo')).toEqual({ day: 1, hour: 21, hourOfWeek: 45 });
    expect(localHour(MONDAY_NOON, 'America/New_York')).toEqual({ day: 1, hour: 7, hourOfWeek: 31 });
    expect(localHour(Date.UTC(2026, 0, 5, 20), 'Pacific/Auckland')).toEqual({
      day: 2,
      hour: 9,
      hourOfWeek: 57,
    });
  });

  it('gets quarter-hour offsets right across its per-zone cache', () => {
    // Kathmandu is UTC+5:45: 12:00Z is 17:45, 12:14Z is 17:59, 12:15Z is 18:00.
    expect(localHour(MONDAY_NOON, 'Asia/Kathmandu').hour).toBe(17);
    expect(localHour(MONDAY_NOON + 14 * 60_000, 'Asia/Kathmandu').hour).toBe(17);
    expect(localHour(MONDAY_NOON + 15 * 60_000, 'Asia/Kathmandu').hour).toBe(18);
    expect(localHour(MONDAY_NOON, 'Asia/Kathmandu').hour).toBe(17);
  });

  it('falls back to UTC for an invalid time zone', () => {
    const utc = hashFeatures(base(), BITS);
    expect(hashFeatures(base({ timeZone: 'Not/AZone' }), BITS)).toEqual(utc);
    expect(hashFeatures(base({ timeZone: 'Not/AZone' }), BITS)).toEqual(utc); // cached as invalid
    expect(localHour(MONDAY_NOON, 'Not/AZone')).toEqual(localHour(MONDAY_NOON));
  });

  it('rejects bad bits and a bad time', () => {
    expect(() => hashFeatures(base(), 0)).toThrow(/bits/);
    expect(() => hashFeatures(base(), 18.5)).toThrow(/bits/);
    expect(() => hashFeatures(base({ at: Number.NaN }), BITS)).toThrow(/epoch/);
  });

  it('prints a speed check', () => {
    const n = 20_000;
    for (let i = 0; i < n; i++) hashFeatures(rich, BITS); // warm up
    const start = performance.now();
    for (let i = 0; i < n; i++) hashFeatures(rich, BITS);
    const us = ((performance.now() - start) * 1000) / n;
    console.log(`hashFeatures: ${us.toFixed(2)} µs for ${hashFeatures(rich, BITS).idx.length} features`);
  });
});
