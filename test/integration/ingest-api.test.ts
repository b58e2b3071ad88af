import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { basic, bearer, startHarness, testConfig, type Harness } from '../helpers/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness(
    testConfig({
      trackingPlan: {
        mode: 'flag',
        events: { 'Order Completed': { properties: { total: { type: 'number', required: true } } } },
      },
    }),
  );
});
afterEach(async () => h.close());

const post = (url: string, payload: unknown, auth = basic()) =>
  h.app.inject({
    method: 'POST',
    url,
    payload: payload as object,
    headers: { authorization: auth, 'content-type': 'application/json' },
  });
const get = (url: string) => h.app.inject({ method: 'GET', url, headers: { authorization: bearer() } });

describe('ingest API', () => {
  it('accepts a track call and the event reaches the profile timeline', async () => {
    const res = await post('/v1/track', {
      userId: 'u1',
      event: 'Signed Up',
      messageId: 'm1',
      properties: { plan: 'pro' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ success: true, messageId: 'm1', duplicate: false });
    const tl = await get('/v1/profiles/u1/timeline');
    expect(tl.statusCode).toBe(200);
    const items = tl.json().items;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      kind: 'event',
      event: { event: 'Signed Up', messageId: 'm1', properties: { plan: 'pro' } },
    });
  });

  it('refuses calls without a valid write key', async () => {
    const res = await post('/v1/track', { userId: 'u1', event: 'X' }, basic('wrong-key-123'));
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('PW_ERR_AUTH_WRITE_KEY');
    const none = await h.app.inject({
      method: 'POST',
      url: '/v1/track',
      payload: { userId: 'u', event: 'X' },
    });
    expect(none.statusCode).toBe(401);
  });

  it('accepts the write key in the body, as Segment clients may send it', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/track',
      payload: { userId: 'u1', event: 'X', writeKey: 'wk_test_web_key' },
    });
    expect(res.statusCode).toBe(200);
  });

  it('a malformed event gets 400 naming the field, and is dead-lettered', async () => {
    const res = await post('/v1/track', { event: 'No Id', messageId: 'bad1' });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body).toMatchObject({ success: false, code: 'PW_ERR_INGEST_INVALID', field: 'userId' });
    expect(body.message).toMatch(/^userId: /);
    const dl = (await get('/v1/dead-letter')).json();
    expect(dl.items).toHaveLength(1);
    expect(dl.items[0]).toMatchObject({
      source: 'web',
      code: 'PW_ERR_INGEST_INVALID',
      field: 'userId',
      messageId: 'bad1',
    });
    expect(JSON.parse(dl.items[0].payload)).toEqual({ event: 'No Id', messageId: 'bad1' });
  });

  it('a body that is not JSON is refused with 400 and kept as text', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/track',
      payload: '{"userId": "u1", "event": ',
      headers: { authorization: basic(), 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('PW_ERR_INGEST_BODY');
    const dl = (await get('/v1/dead-letter')).json();
    expect(dl.items[0].payload).toBe('{"userId": "u1", "event": ');
  });

  it('accepts gzip bodies, as Segment does, and applies the size limit after decompression', async () => {
    const body = gzipSync(JSON.stringify({ batch: [{ type: 'track', userId: 'gz', event: 'Zipped' }] }));
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/batch',
      payload: body,
      headers: { authorization: basic(), 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ accepted: 1 });
    const bomb = gzipSync(
      JSON.stringify({ userId: 'gz', event: 'Big', properties: { pad: 'x'.repeat(200_000) } }),
    );
    expect(bomb.length).toBeLessThan(32 * 1024);
    const big = await h.app.inject({
      method: 'POST',
      url: '/v1/track',
      payload: bomb,
      headers: { authorization: basic(), 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    expect(big.statusCode).toBe(413);
    const odd = await h.app.inject({
      method: 'POST',
      url: '/v1/track',
      payload: '{}',
      headers: { authorization: basic(), 'content-type': 'application/json', 'content-encoding': 'br' },
    });
    expect(odd.statusCode).toBe(400);
    const corrupt = await h.app.inject({
      method: 'POST',
      url: '/v1/track',
      payload: Buffer.from('definitely not gzip'),
      headers: { authorization: basic(), 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    expect(corrupt.statusCode).toBe(400);
    expect(corrupt.json()).toMatchObject({ code: 'PW_ERR_INGEST_BODY' });
    expect(corrupt.json().message).toMatch(/could not be decompressed/);
    expect(odd.json().message).toMatch(/content-encoding "br"/);
  });

  it('answers CORS preflights on ingest routes only', async () => {
    const pre = await h.app.inject({
      method: 'OPTIONS',
      url: '/v1/track',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' },
    });
    expect(pre.statusCode).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('https://shop.example');
    const read = await h.app.inject({
      method: 'GET',
      url: '/v1/dead-letter',
      headers: { origin: 'https://evil.example', authorization: bearer() },
    });
    expect(read.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses prototype-poisoning payloads', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/identify',
      payload: '{"userId":"u1","traits":{"__proto__":{"admin":true}}}',
      headers: { authorization: basic(), 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('enforces Segment size limits with 413 and a message that says the limit', async () => {
    const big = 'x'.repeat(33 * 1024);
    const one = await post('/v1/track', { userId: 'u1', event: 'Big', properties: { big } });
    expect(one.statusCode).toBe(413);
    expect(one.json()).toMatchObject({ code: 'PW_ERR_INGEST_TOO_LARGE' });
    expect(one.json().message).toMatch(/32768 bytes/);
    const batch = await post('/v1/batch', {
      batch: Array.from({ length: 20 }, () => ({
        type: 'track',
        userId: 'u',
        event: 'E',
        properties: { big },
      })),
    });
    expect(batch.statusCode).toBe(413);
    expect(batch.json().message).toMatch(/512000 bytes/);
    // An oversized event inside an acceptable batch is rejected alone.
    const mixed = await post('/v1/batch', {
      batch: [
        { type: 'track', userId: 'u', event: 'Small' },
        { type: 'track', userId: 'u', event: 'Big', properties: { big } },
      ],
    });
    expect(mixed.statusCode).toBe(200);
    expect(mixed.json()).toMatchObject({
      accepted: 1,
      rejected: 1,
      errors: [{ index: 1, code: 'PW_ERR_INGEST_TOO_LARGE', field: 'batch[1]' }],
    });
  });

  it('a batch keeps valid events and reports each invalid one by index', async () => {
    const res = await post('/v1/batch', {
      batch: [
        { type: 'track', userId: 'u1', event: 'A', messageId: 'b1' },
        { type: 'track', event: 'B', messageId: 'b2' },
        { type: 'identify', userId: 'u1', traits: { name: 'Ada' }, messageId: 'b3' },
        { type: 'teleport', userId: 'u1', messageId: 'b4' },
      ],
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ success: true, accepted: 2, duplicates: 0, rejected: 2 });
    expect(body.errors.map((e: { index: number; field: string }) => [e.index, e.field])).toEqual([
      [1, 'batch[1].userId'],
      [3, 'batch[3].type'],
    ]);
    const dl = (await get('/v1/dead-letter')).json();
    expect(dl.items.map((d: { messageId: string }) => d.messageId).sort()).toEqual(['b2', 'b4']);
    const profile = (await get('/v1/profiles/u1')).json();
    expect(profile.traits).toEqual({ name: 'Ada' });
  });

  it('a batch with nothing usable is a 400', async () => {
    const res = await post('/v1/batch', { batch: [{ type: 'track', event: 'B' }] });
    expect(res.statusCode).toBe(400);
    const notBatch = await post('/v1/batch', { events: [] });
    expect(notBatch.statusCode).toBe(400);
    expect(notBatch.json().errors[0].field).toMatch(/batch/);
  });

  it('stores a duplicate messageId once, also across a restart', async () => {
    const ev = { userId: 'u1', event: 'Clicked', messageId: 'dup-1' };
    expect((await post('/v1/track', ev)).json().duplicate).toBe(false);
    expect((await post('/v1/track', ev)).json().duplicate).toBe(true);
    await h.restart();
    expect((await post('/v1/track', ev)).json().duplicate).toBe(true);
    const batch = await post('/v1/batch', {
      batch: [
        { type: 'track', ...ev },
        { type: 'track', ...ev, messageId: 'dup-2' },
        { type: 'track', ...ev, messageId: 'dup-2' },
      ],
    });
    expect(batch.json()).toMatchObject({ accepted: 1, duplicates: 2 });
    expect(await h.rt.store.read.countEvents()).toBe(2);
  });

  it('corrects client clock skew from sentAt and stores receivedAt', async () => {
    const hourFast = Date.now() + 3_600_000;
    await post('/v1/track', {
      userId: 'u1',
      event: 'Skewed',
      timestamp: new Date(hourFast - 5000).toISOString(),
      sentAt: new Date(hourFast).toISOString(),
    });
    const ev = (await get('/v1/profiles/u1/timeline')).json().items[0].event;
    expect(Math.abs(Date.parse(ev.timestamp) - (Date.parse(ev.receivedAt) - 5000))).toBeLessThan(50);
    expect(ev.originalTimestamp).toBe(new Date(hourFast - 5000).toISOString());
  });

  it('tracking plan in flag mode keeps the event and marks the violation', async () => {
    const res = await post('/v1/track', {
      userId: 'u1',
      event: 'Order Completed',
      properties: { total: 'lots' },
    });
    expect(res.statusCode).toBe(200);
    const ev = (await get('/v1/profiles/u1/timeline')).json().items[0].event;
    expect(ev.violations).toEqual(['properties.total: expected number, got string']);
  });

  it('tracking plan in reject mode refuses the event with every violation, and dead-letters it', async () => {
    await h.close();
    h = await startHarness(
      testConfig({
        trackingPlan: {
          mode: 'reject',
          allowUnplanned: false,
          events: { 'Order Completed': { properties: { total: { type: 'number', required: true } } } },
        },
      }),
    );
    const res = await post('/v1/track', {
      userId: 'u1',
      event: 'Order Completed',
      messageId: 'tp1',
      properties: {},
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      success: false,
      code: 'PW_ERR_INGEST_TRACKING_PLAN',
      field: 'properties.total',
      message: 'tracking plan violation: properties.total: required by the tracking plan',
      messageId: 'tp1',
    });
    const batch = await post('/v1/batch', {
      batch: [{ type: 'track', userId: 'u1', event: 'Unplanned Thing' }],
    });
    expect(batch.json().errors[0]).toMatchObject({
      index: 0,
      code: 'PW_ERR_INGEST_TRACKING_PLAN',
      field: 'batch[0].event',
    });
    expect(batch.json().errors[0].messageId).toBeUndefined();
    const dl = (await get('/v1/dead-letter')).json();
    expect(dl.items).toHaveLength(2);
    expect(Date.parse(dl.items[0].receivedAt)).toBeGreaterThan(0);
    expect(await h.rt.store.read.countEvents()).toBe(0);
  });

  it('validates query parameters', async () => {
    await post('/v1/track', { userId: 'u1', event: 'A' });
    const res = await get('/v1/profiles/u1/timeline?limit=lots');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'PW_ERR_QUERY_INVALID', field: 'limit' });
    const unknown = await get('/v1/profiles?segment=nope');
    expect(unknown.statusCode).toBe(400);
    expect((await get('/v1/profiles/nobody')).statusCode).toBe(404);
    expect((await h.app.inject({ method: 'GET', url: '/v1/profiles/u1' })).statusCode).toBe(401);
  });

  it('serves /healthz and Prometheus /metrics with ingest counters', async () => {
    await post('/v1/track', { userId: 'u1', event: 'A' });
    await post('/v1/track', { event: 'A' });
    expect((await h.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({
      status: 'ok',
      store: 'ok',
    });
    const m = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(m).toMatch(/pathwise_ingest_events_total\{source="web",outcome="accepted"\} 1/);
    expect(m).toMatch(/pathwise_ingest_events_total\{source="web",outcome="rejected"\} 1/);
    expect(m).toMatch(/pathwise_http_request_duration_seconds_bucket\{.*route="\/v1\/track"/);
  });
});
