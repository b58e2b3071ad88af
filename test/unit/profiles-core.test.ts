import { describe, expect, it } from 'vitest';
import { emptyProfile, type PathwiseEvent } from '../../src/domain/index.js';
import { configSchema, type ComputedTraitConfig } from '../../src/config/schema.js';
import {
  applyComputed,
  compileSegments,
  computedValues,
  evaluateSegments,
  eventIdentities,
  mergeProfiles,
  mergeTraits,
  normalizeIdentifier,
} from '../../src/profiles/core/index.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 1);

const ev = (over: Partial<PathwiseEvent>): PathwiseEvent => ({
  messageId: 'm',
  source: 's',
  type: 'track',
  event: 'Order Completed',
  timestamp: T0,
  receivedAt: T0,
  properties: {},
  traits: {},
  context: {},
  ...over,
});

const defs = (list: unknown[]): ComputedTraitConfig[] =>
  configSchema.parse({ computedTraits: list }).computedTraits;

describe('mergeTraits', () => {
  it('keeps the newer value when an older event arrives late', () => {
    const p = emptyProfile('p', T0);
    mergeTraits(p, { plan: 'pro', city: 'Oslo' }, T0 + 10);
    mergeTraits(p, { plan: 'free', name: 'Ada' }, T0); // late, older event
    expect(p.traits).toEqual({ plan: 'pro', city: 'Oslo', name: 'Ada' });
    mergeTraits(p, { plan: 'team' }, T0 + 20);
    expect(p.traits.plan).toBe('team');
  });

  it('ignores __proto__ keys', () => {
    const p = emptyProfile('p', T0);
    mergeTraits(p, JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}'), T0);
    expect(Object.getPrototypeOf(p.traits)).toBe(Object.prototype);
    expect(p.traits).toEqual({ ok: 1 });
  });
});

describe('computed traits', () => {
  const d = defs([
    { name: 'orders', kind: 'count', event: 'Order Completed' },
    { name: 'orders_7d', kind: 'count', event: 'Order Completed', window: '7d' },
    { name: 'revenue', kind: 'sum', event: 'Order Completed', property: 'total' },
    { name: 'revenue_7d', kind: 'sum', event: 'Order Completed', property: 'total', window: '7d' },
    { name: 'aov', kind: 'avg', event: 'Order Completed', property: 'total' },
    { name: 'first_order', kind: 'first', event: 'Order Completed' },
    { name: 'last_total', kind: 'last', event: 'Order Completed', property: 'total' },
    { name: 'fav', kind: 'mostFrequent', event: 'Product Viewed', property: 'category', maxValues: 3 },
    { name: 'pages', kind: 'count', event: 'page' },
  ]);

  it('updates incrementally and windows by event time', () => {
    const p = emptyProfile('p', T0);
    const now = T0 + 10 * DAY;
    applyComputed(p, ev({ timestamp: T0, properties: { total: 100 } }), d, now); // 10 days ago: outside 7d
    applyComputed(p, ev({ timestamp: T0 + 8 * DAY, properties: { total: 50 } }), d, now);
    applyComputed(p, ev({ timestamp: T0 + 9 * DAY, properties: { total: '30' } }), d, now);
    applyComputed(p, ev({ type: 'page', event: 'Home', timestamp: T0 + 9 * DAY }), d, now);
    const v = computedValues(p, d, now);
    expect(v.orders).toBe(3);
    expect(v.orders_7d).toBe(2);
    expect(v.revenue).toBe(180);
    expect(v.revenue_7d).toBe(80);
    expect(v.aov).toBe(60);
    expect(v.first_order).toEqual(new Date(T0));
    expect(v.last_total).toBe('30'); // last keeps the value as sent
    expect(v.pages).toBe(1);
    // Eight days later nothing of the 7-day window remains.
    expect(computedValues(p, d, now + 8 * DAY).orders_7d).toBe(0);
  });

  it('skips events without a numeric property for sum and avg', () => {
    const p = emptyProfile('p', T0);
    applyComputed(p, ev({ properties: { total: 'n/a' } }), d, T0);
    expect(computedValues(p, d, T0)).toMatchObject({ revenue: 0, aov: null, orders: 1 });
  });

  it('most frequent value is bounded and deterministic', () => {
    const p = emptyProfile('p', T0);
    for (const c of ['shoes', 'hats', 'shoes', 'bags', 'socks', 'socks', 'socks']) {
      applyComputed(p, ev({ event: 'Product Viewed', properties: { category: c } }), d, T0);
    }
    const state = p.computed.fav;
    expect(state?.kind === 'mostFrequent' && Object.keys(state.counts).length).toBeLessThanOrEqual(3);
    expect(computedValues(p, d, T0).fav).toBe('socks');
  });

  it('merging two profiles combines computed state', () => {
    const a = emptyProfile('a', T0);
    const b = emptyProfile('b', T0 - DAY);
    applyComputed(a, ev({ timestamp: T0, properties: { total: 10 } }), d, T0);
    applyComputed(b, ev({ timestamp: T0 - DAY, properties: { total: 5 } }), d, T0);
    mergeTraits(b, { name: 'Old' }, T0 - DAY);
    mergeTraits(a, { name: 'New' }, T0);
    mergeProfiles(a, b);
    const v = computedValues(a, d, T0);
    expect(v).toMatchObject({
      orders: 2,
      orders_7d: 2,
      revenue: 15,
      revenue_7d: 15,
      first_order: new Date(T0 - DAY),
    });
    expect(a.traits.name).toBe('New');
    expect(a.firstSeen).toBe(T0 - DAY);
  });
});

describe('segments', () => {
  const d = defs([{ name: 'orders', kind: 'count', event: 'Order Completed' }]);
  const segs = compileSegments(
    configSchema.parse({
      segments: [
        { name: 'buyers', where: 'computed.orders >= 2' },
        { name: 'vip_buyers', where: '"buyers" in segments && traits.tier == "vip"' },
      ],
    }).segments,
  );

  it('reports entering and leaving, with earlier segments visible to later ones', () => {
    const p = emptyProfile('p', T0);
    mergeTraits(p, { tier: 'vip' }, T0);
    applyComputed(p, ev({}), d, T0);
    let r = evaluateSegments(p, segs, d, T0);
    expect(r.entered).toEqual([]);
    applyComputed(p, ev({}), d, T0);
    r = evaluateSegments(p, segs, d, T0);
    expect(r.entered).toEqual(['buyers', 'vip_buyers']);
    p.segments = r.members;
    mergeTraits(p, { tier: 'basic' }, T0 + 1);
    r = evaluateSegments(p, segs, d, T0);
    expect(r).toMatchObject({ entered: [], exited: ['vip_buyers'], members: ['buyers'] });
  });

  it('treats an expression that fails at run time (missing trait) as not a member', () => {
    const p = emptyProfile('p', T0);
    applyComputed(p, ev({}), d, T0);
    applyComputed(p, ev({}), d, T0);
    const r = evaluateSegments(p, segs, d, T0);
    expect(r.members).toEqual(['buyers']);
  });
});

describe('identifiers', () => {
  it('normalises emails and phones', () => {
    expect(normalizeIdentifier('email', '  Ada@Example.COM ')).toBe('ada@example.com');
    expect(normalizeIdentifier('email', 'not-an-email')).toBeUndefined();
    expect(normalizeIdentifier('phone', '+44 (20) 7946-0958')).toBe('+442079460958');
    expect(normalizeIdentifier('phone', '12')).toBeUndefined();
  });

  it('lists an event identities; group traits never identify a person', () => {
    const ids = eventIdentities(
      ev({
        type: 'identify',
        userId: 'u1',
        anonymousId: 'a1',
        traits: { email: 'A@x.io' },
        context: { traits: { phone: '555 123 4567' } },
      }),
      ['email', 'phone'],
    );
    expect(ids).toEqual({
      userId: { kind: 'userId', value: 'u1' },
      anonymousId: { kind: 'anonymousId', value: 'a1' },
      previous: [],
      traits: [
        { kind: 'email', value: 'a@x.io' },
        { kind: 'phone', value: '5551234567' },
      ],
    });
    const g = eventIdentities(
      ev({ type: 'group', groupId: 'g', userId: 'u1', traits: { email: 'acct@x.io' } }),
      ['email'],
    );
    expect(g.traits).toEqual([]);
  });
});
