import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Analytics } from '@segment/analytics-node';
import { bearer, startHarness, testConfig, WRITE_KEY, type Harness } from '../helpers/harness.js';

/**
 * The real Segment Node.js client, pointed at a Pathwise server on a real localhost socket: existing
 * instrumentation works by changing its host.
 */
let h: Harness;
let base: string;
beforeAll(async () => {
  h = await startHarness(testConfig({ computedTraits: [{ name: 'views', kind: 'count', event: 'page' }] }));
  base = await h.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => h.close());

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test reads loosely-typed JSON
const get = async (path: string): Promise<any> => {
  const res = await fetch(`${base}${path}`, { headers: { authorization: bearer() } });
  expect(res.status).toBe(200);
  return res.json();
};

describe('@segment/analytics-node against Pathwise', () => {
  it('track, identify, page and alias arrive and can be read back', async () => {
    const errors: unknown[] = [];
    const analytics = new Analytics({
      writeKey: WRITE_KEY,
      host: base,
      path: '/v1/batch',
      flushAt: 3,
      maxRetries: 0,
    });
    analytics.on('error', (e) => errors.push(e));
    analytics.page({
      anonymousId: 'sdk-anon',
      name: 'Pricing',
      properties: { url: 'https://shop.test/pricing' },
    });
    analytics.track({ anonymousId: 'sdk-anon', event: 'Plan Selected', properties: { plan: 'pro' } });
    analytics.identify({
      userId: 'sdk-user',
      anonymousId: 'sdk-anon',
      traits: { email: 'sdk@example.com', plan: 'pro' },
    });
    analytics.track({ userId: 'sdk-user', event: 'Order Completed', properties: { total: 42 } });
    analytics.alias({ userId: 'sdk-user', previousId: 'legacy-id-7' });
    await analytics.closeAndFlush({ timeout: 10_000 });
    expect(errors).toEqual([]);

    const profile = await get('/v1/profiles/sdk-user');
    expect(profile.traits).toMatchObject({ email: 'sdk@example.com', plan: 'pro' });
    expect(profile.computed.views).toBe(1);
    expect((await get('/v1/profiles/sdk-anon')).id).toBe(profile.id);
    expect((await get('/v1/profiles/legacy-id-7')).id).toBe(profile.id);

    const timeline = await get('/v1/profiles/sdk-user/timeline?limit=50');
    const events = timeline.items
      .filter((i: { kind: string }) => i.kind === 'event')
      .map(
        (i: { event: { type: string; event?: string; context: { library?: { name: string } } } }) => i.event,
      );
    expect(events.map((e: { type: string; event?: string }) => `${e.type}:${e.event ?? ''}`).sort()).toEqual(
      ['alias:', 'identify:', 'page:Pricing', 'track:Order Completed', 'track:Plan Selected'].sort(),
    );
    // The client's own context came through.
    expect(events[0].context.library?.name).toBe('@segment/analytics-node');
  });
});
