import { afterEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/domain/index.js';
import { basic, bearer, startHarness, startHarnessOn, testConfig, type Harness } from '../helpers/harness.js';

let h: Harness;
afterEach(async () => h?.close());

const post = (url: string, payload: unknown) =>
  h.app.inject({ method: 'POST', url, payload: payload as object, headers: { authorization: basic() } });
const get = async (url: string) => {
  const res = await h.app.inject({ method: 'GET', url, headers: { authorization: bearer() } });
  return { status: res.statusCode, body: res.json() };
};
const at = (minutes: number) => new Date(Date.UTC(2026, 10, 1, 12, minutes)).toISOString();

const shop = testConfig({
  computedTraits: [
    { name: 'orders', kind: 'count', event: 'Order Completed' },
    { name: 'revenue', kind: 'sum', event: 'Order Completed', property: 'total' },
    { name: 'fav', kind: 'mostFrequent', event: 'Product Viewed', property: 'category' },
  ],
  segments: [
    { name: 'buyers', where: 'computed.orders >= 1' },
    { name: 'big', where: 'computed.revenue > 100' },
  ],
});

describe('identity resolution', () => {
  it('identify of an anonymous visitor merges the anonymous history into the known profile', async () => {
    h = await startHarness(shop);
    await post('/v1/page', { anonymousId: 'anon-1', name: 'Home', timestamp: at(0) });
    await post('/v1/track', {
      anonymousId: 'anon-1',
      event: 'Product Viewed',
      properties: { category: 'shoes' },
      timestamp: at(1),
    });
    // The same person logged in on another device earlier.
    await post('/v1/identify', { userId: 'u1', traits: { email: 'ada@example.com' }, timestamp: at(2) });
    const anonProfile = (await get('/v1/profiles/anon-1')).body.id;
    const userProfile = (await get('/v1/profiles/u1')).body.id;
    expect(anonProfile).not.toBe(userProfile);

    await post('/v1/identify', {
      userId: 'u1',
      anonymousId: 'anon-1',
      traits: { name: 'Ada' },
      timestamp: at(3),
    });
    const p = (await get('/v1/profiles/anon-1')).body;
    expect((await get('/v1/profiles/u1')).body.id).toBe(p.id);
    expect((await get('/v1/profiles/ada@example.com')).body.id).toBe(p.id);
    expect((await get(`/v1/profiles/${anonProfile}`)).body.id).toBe(p.id);
    expect(p.traits).toEqual({ email: 'ada@example.com', name: 'Ada' });
    expect(p.computed.fav).toBe('shoes');
    expect(p.identities).toEqual(
      expect.arrayContaining([
        { kind: 'userId', value: 'u1' },
        { kind: 'anonymousId', value: 'anon-1' },
        { kind: 'email', value: 'ada@example.com' },
      ]),
    );
    expect(p.merges).toHaveLength(1);
    expect(p.merges[0]).toMatchObject({ cause: 'identify', outcome: 'merged' });

    const tl = (await get('/v1/profiles/u1/timeline?limit=100')).body.items;
    const kinds = tl.map((i: { kind: string; event?: { type: string; event?: string } }) =>
      i.kind === 'merge' ? 'merge' : (i.event?.event ?? i.event?.type),
    );
    expect(kinds).toEqual(expect.arrayContaining(['merge', 'Home', 'Product Viewed', 'identify']));
    expect(tl.filter((i: { kind: string }) => i.kind === 'event')).toHaveLength(4);
  });

  it('alias merges previousId into userId', async () => {
    h = await startHarness(shop);
    await post('/v1/track', { anonymousId: 'old-anon', event: 'Order Completed', properties: { total: 60 } });
    await post('/v1/track', { userId: 'u2', event: 'Order Completed', properties: { total: 70 } });
    const res = await post('/v1/alias', { userId: 'u2', previousId: 'old-anon' });
    expect(res.statusCode).toBe(200);
    const p = (await get('/v1/profiles/u2')).body;
    expect(p.computed).toMatchObject({ orders: 2, revenue: 130 });
    expect(p.segments).toEqual(['big', 'buyers']);
    expect(p.merges[0]).toMatchObject({ cause: 'alias', outcome: 'merged' });
  });

  it('identifier traits link sources: the same email from the CRM joins the web profile', async () => {
    h = await startHarness(shop);
    await post('/v1/identify', { userId: 'crm-42', traits: { plan: 'gold' } });
    await post('/v1/identify', { anonymousId: 'web-a', traits: { email: 'Bo@Example.com' } });
    expect((await get('/v1/profiles/web-a')).body.id).not.toBe((await get('/v1/profiles/crm-42')).body.id);
    await post('/v1/identify', { userId: 'crm-42', traits: { email: 'bo@example.com ' } });
    const p = (await get('/v1/profiles/web-a')).body;
    expect(p.id).toBe((await get('/v1/profiles/crm-42')).body.id);
    expect(p.traits).toMatchObject({ plan: 'gold', email: 'bo@example.com ' });
    expect(p.merges[0]).toMatchObject({ cause: 'identifier-trait', outcome: 'merged' });
  });

  it('a new userId adopts the anonymous profile its identifiers point to, without a merge', async () => {
    h = await startHarness(shop);
    await post('/v1/identify', { anonymousId: 'web-b', traits: { email: 'cy@example.com' } });
    await post('/v1/identify', { userId: 'crm-43', traits: { email: 'cy@example.com' } });
    const p = (await get('/v1/profiles/web-b')).body;
    expect(p.id).toBe((await get('/v1/profiles/crm-43')).body.id);
    expect(p.merges).toEqual([]);
  });

  it('a conflicting merge (two different userIds) is refused under keep-separate and recorded', async () => {
    h = await startHarness(shop);
    await post('/v1/identify', { userId: 'alice', anonymousId: 'shared-tablet' });
    await post('/v1/identify', { userId: 'bob', anonymousId: 'shared-tablet' });
    const alice = (await get('/v1/profiles/alice')).body;
    const bob = (await get('/v1/profiles/bob')).body;
    expect(alice.id).not.toBe(bob.id);
    expect(bob.merges).toEqual([
      expect.objectContaining({ outcome: 'refused', cause: 'identify', fromProfileId: alice.id }),
    ]);
    expect(bob.merges[0].reason).toMatch(/conflicting userIds/);
    // The anonymous id stays with its first owner.
    expect((await get('/v1/profiles/shared-tablet')).body.id).toBe(alice.id);
  });

  it('under identity.conflict: merge the same conflict merges', async () => {
    h = await startHarness({ ...shop, identity: { identifiers: ['email'], conflict: 'merge' } });
    await post('/v1/identify', { userId: 'alice', anonymousId: 'shared' });
    await post('/v1/identify', { userId: 'bob', anonymousId: 'shared' });
    expect((await get('/v1/profiles/alice')).body.id).toBe((await get('/v1/profiles/bob')).body.id);
  });

  it('an explicit alias merges two userIds even under keep-separate (a renamed user)', async () => {
    h = await startHarness(shop);
    await post('/v1/track', { userId: 'old-id-5', event: 'Order Completed', properties: { total: 30 } });
    await post('/v1/track', { userId: 'new-id-5', event: 'Order Completed', properties: { total: 20 } });
    await post('/v1/alias', { userId: 'new-id-5', previousId: 'old-id-5' });
    const p = (await get('/v1/profiles/new-id-5')).body;
    expect((await get('/v1/profiles/old-id-5')).body.id).toBe(p.id);
    expect(p.computed).toMatchObject({ orders: 2, revenue: 50 });
    expect(p.merges[0]).toMatchObject({ cause: 'alias', outcome: 'merged' });
    expect(p.merges[0].reason).toBe(
      'merged despite conflicting userIds ["new-id-5"] vs ["old-id-5"] (explicit alias)',
    );
  });

  it('late events do not overwrite newer trait values', async () => {
    h = await startHarness(shop);
    await post('/v1/identify', { userId: 'u3', traits: { plan: 'gold' }, timestamp: at(10) });
    await post('/v1/identify', { userId: 'u3', traits: { plan: 'free', city: 'Lyon' }, timestamp: at(5) });
    expect((await get('/v1/profiles/u3')).body.traits).toEqual({ plan: 'gold', city: 'Lyon' });
  });
});

describe('segments in real time', () => {
  it('entering and leaving emit timeline events and the segment lists members', async () => {
    h = await startHarness(
      testConfig({
        computedTraits: [{ name: 'orders', kind: 'count', event: 'Order Completed' }],
        segments: [
          { name: 'active_buyer', where: 'computed.orders >= 1 && !(has(traits.churned) && traits.churned)' },
        ],
      }),
    );
    await post('/v1/track', { userId: 'u1', event: 'Order Completed', messageId: 'o1' });
    await post('/v1/track', { userId: 'u2', event: 'Viewed' });
    let members = (await get('/v1/profiles?segment=active_buyer')).body;
    const u1 = (await get('/v1/profiles/u1')).body.id;
    expect(members.items).toEqual([u1]);
    await post('/v1/identify', { userId: 'u1', traits: { churned: true } });
    members = (await get('/v1/profiles?segment=active_buyer')).body;
    expect(members.items).toEqual([]);
    const tl = (await get('/v1/profiles/u1/timeline')).body.items.map(
      (i: { event: { event?: string; type: string; properties: { segment?: string } } }) =>
        i.event.event ?? i.event.type,
    );
    expect(tl).toEqual(['Segment Exited', 'identify', 'Segment Entered', 'Order Completed']);
  });

  it('drops memberships of segments removed from the config on the next event', async () => {
    const withSeg = testConfig({
      segments: [
        { name: 'gone', where: 'true' },
        { name: 'kept', where: 'true' },
      ],
    });
    h = await startHarness(withSeg);
    await post('/v1/track', { userId: 'u1', event: 'A' });
    expect((await get('/v1/profiles/u1')).body.segments).toEqual(['gone', 'kept']);
    const db = h.db;
    await h.app.close();
    await h.rt.close();
    h = await startHarnessOn(db, testConfig({ segments: [{ name: 'kept', where: 'true' }] }));
    await post('/v1/track', { userId: 'u1', event: 'B' });
    const p = (await get('/v1/profiles/u1')).body;
    expect(p.segments).toEqual(['kept']);
    const names = (await get('/v1/profiles/u1/timeline')).body.items.map(
      (i: { event: { event: string; properties: { segment?: string } } }) =>
        `${i.event.event}:${i.event.properties.segment ?? ''}`,
    );
    expect(names[0]).toBe('Segment Exited:gone');
  });

  it('pages through segment members and timelines without gaps or repeats', async () => {
    h = await startHarness(testConfig({ segments: [{ name: 'everyone', where: 'true' }] }));
    const batch = Array.from({ length: 25 }, (_, i) => ({ type: 'track', userId: `p${i}`, event: 'Hi' }));
    await post('/v1/batch', { batch });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = (await get(`/v1/profiles?segment=everyone&limit=7${cursor ? `&cursor=${cursor}` : ''}`))
        .body;
      seen.push(...page.items);
      cursor = page.next;
    } while (cursor);
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
  });
});

describe('lookup', () => {
  it('finds a profile by an email or phone written differently from how it was stored', async () => {
    h = await startHarness(shop);
    await post('/v1/identify', {
      userId: 'u9',
      traits: { email: 'ada@example.com', phone: '+44 20 7946 0958' },
    });
    const id = (await get('/v1/profiles/u9')).body.id;
    expect((await get('/v1/profiles/Ada@Example.COM')).body.id).toBe(id);
    expect((await get(`/v1/profiles/${encodeURIComponent('+44 (20) 7946-0958')}`)).body.id).toBe(id);
  });
});

describe('segment refresh without events', () => {
  it('a windowed segment is left when its window passes, and new definitions apply to everyone', async () => {
    const clock = fixedClock(Date.UTC(2026, 10, 1));
    const computedTraits = [{ name: 'views_7d', kind: 'count', event: 'Product Viewed', window: '7d' }];
    h = await startHarness(
      testConfig({ computedTraits, segments: [{ name: 'browsing', where: 'computed.views_7d >= 2' }] }),
      clock,
    );
    const at = new Date(clock.now()).toISOString();
    await post('/v1/batch', {
      batch: [
        { type: 'track', userId: 'w1', event: 'Product Viewed', timestamp: at },
        { type: 'track', userId: 'w1', event: 'Product Viewed', timestamp: at },
        { type: 'track', userId: 'w2', event: 'Product Viewed', timestamp: at },
      ],
    });
    expect((await get('/v1/profiles?segment=browsing')).body.items).toHaveLength(1);
    expect(await h.rt.refresher.sweep()).toEqual({ profiles: 2, entered: 0, exited: 0 });

    clock.advance(8 * 86_400_000);
    expect(await h.rt.refresher.sweep()).toEqual({ profiles: 2, entered: 0, exited: 1 });
    expect((await get('/v1/profiles?segment=browsing')).body.items).toEqual([]);
    const tl = (await get('/v1/profiles/w1/timeline')).body.items;
    expect(tl[0].event).toMatchObject({ event: 'Segment Exited', properties: { segment: 'browsing' } });
    expect(tl[0].event.timestamp).toBe(new Date(clock.now()).toISOString());

    // A segment added to the config applies to existing customers at the next sweep (serve runs one at start).
    const db = h.db;
    await h.app.close();
    await h.rt.close();
    h = await startHarnessOn(
      db,
      testConfig({ computedTraits, segments: [{ name: 'anyone', where: 'true' }] }),
      clock,
    );
    expect(await h.rt.refresher.sweep()).toEqual({ profiles: 2, entered: 2, exited: 0 });
    expect((await get('/v1/profiles?segment=anyone')).body.items).toHaveLength(2);
  });
});
