import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, type EventType, type JsonObject } from '../../src/domain/index.js';
import { normalizeEvent, type NormalizeContext } from '../../src/ingest/normalize.js';
import { parseBatchEnvelope } from '../../src/ingest/batch.js';
import { jsonByteLength } from '../../src/ingest/size.js';
import { MAX_BATCH_ITEMS, parseIsoTime } from '../../src/ingest/segment-schema.js';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0); // 2024-05-01T12:00:00.000Z
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** A context with a deterministic id generator, so generated messageIds are predictable. */
const makeCtx = (over: Partial<NormalizeContext> = {}): NormalizeContext => {
  let n = 0;
  return { source: 'web', receivedAt: T0, newId: () => `id${++n}`, ...over };
};

const ok = (raw: unknown, type: EventType | undefined, ctx = makeCtx()) => {
  const r = normalizeEvent(raw, type, ctx);
  if (!r.ok) throw new Error(`expected ok, got ${r.field}: ${r.reason}`);
  return r.event;
};

const fail = (raw: unknown, type: EventType | undefined, ctx = makeCtx()) => {
  const r = normalizeEvent(raw, type, ctx);
  if (r.ok) throw new Error(`expected a rejection, got ${JSON.stringify(r.event)}`);
  return r;
};

/** A minimal valid call of each type. */
const valid: Record<EventType, JsonObject> = {
  track: { userId: 'u1', event: 'Order Completed', properties: { total: 42 } },
  identify: { userId: 'u1', traits: { email: 'a@example.com' } },
  page: { anonymousId: 'a1', name: 'Pricing', properties: { path: '/pricing' } },
  screen: { anonymousId: 'a1', name: 'Home' },
  group: { userId: 'u1', groupId: 'acme', traits: { plan: 'pro' } },
  alias: { userId: 'u1', previousId: 'a1' },
};

describe('normalizeEvent: each call type', () => {
  it('track', () => {
    expect(ok({ ...valid.track, messageId: 'm1' }, 'track')).toStrictEqual({
      messageId: 'm1',
      source: 'web',
      type: 'track',
      event: 'Order Completed',
      userId: 'u1',
      timestamp: T0,
      receivedAt: T0,
      properties: { total: 42 },
      traits: {},
      context: {},
    });
  });

  it('identify keeps traits as sent, and context.traits in context', () => {
    const e = ok({ ...valid.identify, context: { traits: { name: 'Ada' } } }, 'identify');
    expect(e.type).toBe('identify');
    expect(e.traits).toEqual({ email: 'a@example.com' });
    expect(e.context).toEqual({ traits: { name: 'Ada' } });
    expect(e.event).toBeUndefined();
  });

  it('page: the name becomes the event, properties are kept, category becomes a property', () => {
    const e = ok({ ...valid.page, category: 'Docs' }, 'page');
    expect(e).toMatchObject({ type: 'page', event: 'Pricing', anonymousId: 'a1' });
    expect(e.properties).toEqual({ path: '/pricing', category: 'Docs' });
    expect(e.userId).toBeUndefined();
  });

  it('page: an explicit properties.category wins over the top-level category', () => {
    const e = ok({ ...valid.page, category: 'Docs', properties: { category: 'Sales' } }, 'page');
    expect(e.properties).toEqual({ category: 'Sales' });
  });

  it('page and screen without a name have no event', () => {
    expect(ok({ anonymousId: 'a1' }, 'page').event).toBeUndefined();
    expect(ok({ anonymousId: 'a1', name: '' }, 'screen').event).toBeUndefined();
  });

  it('screen', () => {
    expect(ok(valid.screen, 'screen')).toMatchObject({ type: 'screen', event: 'Home', properties: {} });
  });

  it('group: groupId and the group traits', () => {
    expect(ok(valid.group, 'group')).toMatchObject({
      type: 'group',
      groupId: 'acme',
      traits: { plan: 'pro' },
    });
    expect(ok({ ...valid.group, groupId: 42 }, 'group').groupId).toBe('42');
  });

  it('alias: userId and previousId', () => {
    expect(ok(valid.alias, 'alias')).toMatchObject({ type: 'alias', userId: 'u1', previousId: 'a1' });
    expect(ok({ userId: 7, previousId: 8 }, 'alias')).toMatchObject({ userId: '7', previousId: '8' });
  });

  it('ignores unknown top-level keys that Segment clients send', () => {
    const e = ok(
      { ...valid.track, _metadata: { bundled: [] }, version: 2, channel: 'server', integrations: {} },
      'track',
    );
    expect(Object.keys(e).sort()).toEqual([
      'context',
      'event',
      'messageId',
      'properties',
      'receivedAt',
      'source',
      'timestamp',
      'traits',
      'type',
      'userId',
    ]);
  });

  it('the route type wins over a type in the body', () => {
    expect(ok({ ...valid.track, type: 'identify' }, 'track').type).toBe('track');
  });

  it('keeps the sent objects without copying them', () => {
    const properties = { total: 1 };
    expect(ok({ ...valid.track, properties }, 'track').properties).toBe(properties);
  });
});

describe('normalizeEvent: batch items carry their own type', () => {
  it.each(EVENT_TYPES)('%s item', (type) => {
    expect(ok({ ...valid[type], type }, undefined).type).toBe(type);
  });

  it('rejects an item without a type', () => {
    const r = fail(valid.track, undefined);
    expect(r.field).toBe('type');
    expect(r.reason).toBe('required on batch items: one of track, identify, page, screen, group, alias');
  });

  it.each([['Track'], ['nope'], [3], ['constructor'], ['toString']])('rejects type %j', (type) => {
    const r = fail({ ...valid.track, type }, undefined);
    expect(r.field).toBe('type');
    expect(r.reason).toContain('is not a call type; use one of track, identify');
  });

  it.each([[null], [[]], ['track'], [42]])('rejects a non-object item %j', (raw) => {
    const r = fail(raw, undefined);
    expect(r.field).toBe('');
    expect(r.reason).toMatch(/^must be a JSON object/);
  });
});

describe('normalizeEvent: identity', () => {
  it.each(EVENT_TYPES.filter((t) => t !== 'alias'))('%s needs userId or anonymousId', (type) => {
    const { userId: _u, anonymousId: _a, ...rest } = valid[type];
    const r = fail(rest, type);
    expect(`${r.field}: ${r.reason}`).toBe('userId: required when anonymousId is absent');
    // Either one alone is enough, and empty strings count as absent.
    expect(ok({ ...rest, anonymousId: 'a9' }, type).anonymousId).toBe('a9');
    expect(ok({ ...rest, userId: 'u9' }, type).userId).toBe('u9');
    expect(fail({ ...rest, userId: '', anonymousId: '' }, type).field).toBe('userId');
  });

  it('turns numeric ids into strings', () => {
    const e = ok({ event: 'x', userId: 12345, anonymousId: 0 }, 'track');
    expect(e.userId).toBe('12345');
    expect(e.anonymousId).toBe('0');
  });

  it('numbers and strings map to the same ids for many values', () => {
    for (let n = -5; n < 2000; n += 37) {
      expect(ok({ event: 'x', userId: n }, 'track').userId).toBe(
        ok({ event: 'x', userId: String(n) }, 'track').userId,
      );
    }
  });

  it.each([
    ['userId', true, 'boolean'],
    ['userId', { id: 1 }, 'object'],
    ['anonymousId', ['a'], 'array'],
  ])('rejects %s = %j', (field, value, kind) => {
    const r = fail({ event: 'x', userId: 'u', [field]: value }, 'track');
    expect(r).toEqual({ ok: false, field, reason: `must be a string or a number, got ${kind}` });
  });

  it('alias needs userId and previousId, not anonymousId', () => {
    const noUser = fail({ anonymousId: 'a1', previousId: 'p' }, 'alias');
    expect(noUser.field).toBe('userId');
    expect(noUser.reason).toMatch(/^required for alias calls/);
    const noPrevious = fail({ userId: 'u1', anonymousId: 'a1' }, 'alias');
    expect(noPrevious.field).toBe('previousId');
    expect(noPrevious.reason).toMatch(/^required for alias calls/);
    expect(fail({ userId: 'u1', previousId: '' }, 'alias').field).toBe('previousId');
  });

  it('group needs groupId', () => {
    const r = fail({ userId: 'u1' }, 'group');
    expect(r.field).toBe('groupId');
    expect(r.reason).toMatch(/^required for group calls/);
    expect(fail({ userId: 'u1', groupId: false }, 'group').field).toBe('groupId');
  });
});

describe('normalizeEvent: field rules', () => {
  it.each([
    [undefined, 'required for track calls'],
    ['', 'required for track calls'],
    [null, 'required for track calls'],
    [7, 'must be a string, got number'],
    ['x'.repeat(201), 'must be at most 200 characters (got 201)'],
  ])('track event %j is rejected', (event, reason) => {
    const r = fail({ userId: 'u', event }, 'track');
    expect(r.field).toBe('event');
    expect(r.reason).toContain(reason);
  });

  it('accepts a 200-character event name', () => {
    expect(ok({ userId: 'u', event: 'x'.repeat(200) }, 'track').event).toHaveLength(200);
  });

  it('messageId: kept up to 100 characters, generated (pw-) when missing or empty', () => {
    expect(ok({ ...valid.track, messageId: 'm'.repeat(100) }, 'track').messageId).toBe('m'.repeat(100));
    const ctx = makeCtx();
    expect(ok(valid.track, 'track', ctx).messageId).toBe('pw-id1');
    expect(ok({ ...valid.track, messageId: '' }, 'track', ctx).messageId).toBe('pw-id2');
    const long = fail({ ...valid.track, messageId: 'm'.repeat(101) }, 'track');
    expect(long.field).toBe('messageId');
    expect(long.reason).toContain('at most 100 characters (got 101)');
    expect(fail({ ...valid.track, messageId: 5 }, 'track').field).toBe('messageId');
  });

  it('generated messageIds are distinct', () => {
    const ctx = makeCtx();
    const ids = new Set(Array.from({ length: 500 }, () => ok(valid.track, 'track', ctx).messageId));
    expect(ids.size).toBe(500);
  });

  it.each(['timestamp', 'sentAt', 'originalTimestamp'])('rejects an unparsable %s, naming it', (field) => {
    for (const bad of ['yesterday', '2024-02-30T00:00:00Z', 'May 1, 2024', '2024-05-01T25:00:00Z', '']) {
      const r = fail({ ...valid.track, [field]: bad }, 'track');
      expect(r.field).toBe(field);
      expect(r.reason).toContain('is not an ISO-8601 date; send e.g. 2024-05-01T12:00:00.000Z');
    }
    const num = fail({ ...valid.track, [field]: T0 }, 'track');
    expect(num).toEqual({
      ok: false,
      field,
      reason: 'must be an ISO-8601 date string such as 2024-05-01T12:00:00.000Z, got number',
    });
  });

  it('shortens a long bad value in the message', () => {
    const r = fail({ ...valid.track, timestamp: 'x'.repeat(5000) }, 'track');
    expect(r.reason.length).toBeLessThan(120);
  });

  it.each(['properties', 'traits', 'context', 'integrations'])('%s must be an object', (field) => {
    for (const [bad, kind] of [
      [[], 'array'],
      [null, 'null'],
      ['{}', 'string'],
      [1, 'number'],
    ] as const) {
      const r = fail({ ...valid.track, [field]: bad }, 'track');
      expect(r).toEqual({
        ok: false,
        field,
        reason: `must be an object ({...}), got ${kind}; leave it out if empty`,
      });
    }
  });

  it.each(['name', 'category'])('page %s must be a string', (field) => {
    const r = fail({ anonymousId: 'a', [field]: 3 }, 'page');
    expect(r).toEqual({ ok: false, field, reason: 'must be a string, got number' });
  });

  it('every rejection names a field and says something', () => {
    const broken: [unknown, EventType | undefined][] = [
      [{}, 'identify'],
      [{ userId: 'u' }, 'track'],
      [{ userId: 'u' }, 'group'],
      [{ userId: 'u' }, 'alias'],
      [{ userId: 'u', event: 'e', timestamp: 'never' }, 'track'],
      [{ userId: 'u', properties: [] }, 'identify'],
      [{ userId: 'u' }, undefined],
    ];
    for (const [raw, type] of broken) {
      const r = fail(raw, type);
      expect(r.field).not.toBe('');
      expect(r.reason.length).toBeGreaterThan(10);
    }
  });
});

describe('normalizeEvent: times', () => {
  const receivedAt = T0 + 2_100;

  it('corrects a client clock that is one hour fast', () => {
    // The client recorded the event at T0 and sent it 2 s later, but its clock reads one hour ahead.
    const raw = { ...valid.track, timestamp: iso(T0 + HOUR), sentAt: iso(T0 + 2_000 + HOUR) };
    const e = ok(raw, 'track', makeCtx({ receivedAt }));
    expect(e.timestamp).toBe(T0 + 100); // receipt minus the 2 s the client waited; 100 ms in flight
    expect(e.originalTimestamp).toBe(T0 + HOUR);
    expect(e.sentAt).toBe(T0 + 2_000 + HOUR);
    expect(e.receivedAt).toBe(receivedAt);
  });

  it('corrects any skew: the corrected time never depends on the client clock', () => {
    for (let skew = -48 * HOUR; skew <= 48 * HOUR; skew += 7 * HOUR + 12_345) {
      const raw = { ...valid.track, timestamp: iso(T0 + skew), sentAt: iso(T0 + 2_000 + skew) };
      expect(ok(raw, 'track', makeCtx({ receivedAt })).timestamp).toBe(T0 + 100);
    }
  });

  it("uses the batch's sentAt when the event has none", () => {
    const item = { ...valid.track, type: 'track', timestamp: iso(T0 + HOUR) };
    const e = ok(item, undefined, makeCtx({ receivedAt, batchSentAt: T0 + HOUR + 2_000 }));
    expect(e.timestamp).toBe(T0 + 100);
    expect(e.sentAt).toBe(T0 + HOUR + 2_000);
  });

  it("prefers the event's own sentAt over the batch's", () => {
    const raw = { ...valid.track, timestamp: iso(T0), sentAt: iso(T0 + 1_000) };
    const e = ok(raw, 'track', makeCtx({ receivedAt, batchSentAt: T0 + 99 * HOUR }));
    expect(e.timestamp).toBe(receivedAt - 1_000);
    expect(e.sentAt).toBe(T0 + 1_000);
  });

  it('uses originalTimestamp (same clock as sentAt) when given', () => {
    const raw = { ...valid.track, originalTimestamp: iso(T0 + HOUR), sentAt: iso(T0 + HOUR + 2_000) };
    expect(ok(raw, 'track', makeCtx({ receivedAt })).timestamp).toBe(T0 + 100);
    const both = { ...raw, timestamp: iso(T0 - 5 * HOUR) };
    expect(ok(both, 'track', makeCtx({ receivedAt })).timestamp).toBe(T0 + 100);
  });

  it('without sentAt, the sent timestamp is kept as is (historical imports)', () => {
    const e = ok({ ...valid.track, timestamp: '2020-01-01T00:00:00Z' }, 'track', makeCtx({ receivedAt }));
    expect(e.timestamp).toBe(Date.UTC(2020, 0, 1));
    expect(e.originalTimestamp).toBe(Date.UTC(2020, 0, 1));
    expect(e.sentAt).toBeUndefined();
    const rudder = ok({ ...valid.track, originalTimestamp: '2020-01-01T00:00:00Z' }, 'track');
    expect(rudder.timestamp).toBe(Date.UTC(2020, 0, 1));
  });

  it('without any timestamp, the event happened when it was received', () => {
    const e = ok(valid.track, 'track', makeCtx({ receivedAt, batchSentAt: T0 }));
    expect(e.timestamp).toBe(receivedAt);
    expect(e.originalTimestamp).toBeUndefined();
    expect(e.sentAt).toBe(T0);
  });

  it('reads offsets and fractions', () => {
    const e = ok({ ...valid.track, timestamp: '2024-05-01T14:00:00.123456+02:00' }, 'track');
    expect(e.timestamp).toBe(T0 + 123);
  });
});

describe('normalizeEvent: context', () => {
  it('merges the batch context under the event context', () => {
    const batchContext = { library: { name: 'analytics-node' }, ip: '10.0.0.1', locale: 'en' };
    const raw = { ...valid.track, context: { ip: '203.0.113.5', page: { path: '/' } } };
    expect(ok(raw, 'track', makeCtx({ batchContext })).context).toEqual({
      library: { name: 'analytics-node' },
      ip: '203.0.113.5',
      locale: 'en',
      page: { path: '/' },
    });
    expect(batchContext).toEqual({ library: { name: 'analytics-node' }, ip: '10.0.0.1', locale: 'en' });
  });

  it('gives each event its own copy of a batch-only context', () => {
    const batchContext = { ip: '10.0.0.1' };
    const ctx = makeCtx({ batchContext });
    const a = ok(valid.track, 'track', ctx);
    const b = ok(valid.track, 'track', ctx);
    expect(a.context).toEqual(batchContext);
    expect(a.context).not.toBe(batchContext);
    expect(a.context).not.toBe(b.context);
  });

  it('is empty without either', () => {
    expect(ok(valid.track, 'track').context).toEqual({});
  });
});

describe('parseIsoTime', () => {
  it('agrees with Date.parse on UTC timestamps across four centuries', () => {
    // A seeded Park–Miller generator: property-style coverage without fast-check.
    let seed = 42;
    const next = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
    for (let i = 0; i < 2_000; i++) {
      const ms = Date.UTC(1900, 0, 1) + next() * (Date.UTC(2300, 0, 1) - Date.UTC(1900, 0, 1));
      const t = Math.floor(ms);
      expect(parseIsoTime(iso(t))).toBe(t);
    }
  });

  it.each([
    ['2024-05-01', Date.UTC(2024, 4, 1)],
    ['2024-05-01T12:00', T0],
    ['2024-05-01 12:00:00', T0],
    ['2024-05-01t12:00:00z', T0],
    ['2024-05-01T13:00:00+0100', T0],
    ['2024-05-01T07:00:00-05', T0],
    ['2024-05-01T12:00:00.5Z', T0 + 500],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['0050-01-01T00:00:00Z', new Date('0050-01-01T00:00:00Z').getTime()], // not 1950, as Date.UTC would read it
  ])('%s', (text, expected) => {
    expect(parseIsoTime(text)).toBe(expected);
  });

  it.each([
    '2023-02-29T00:00:00Z',
    '2024-04-31',
    '2024-13-01',
    '2024-05-01T24:00:00Z',
    '2024-05-01T12:60Z',
    '2024-05-01T12:00:00+02:',
    '2024-05-01T12:00:00.Z',
    '2024-05-01T12:00:00Zx',
    '2024-5-1',
    '20240501T120000Z',
    'May 1, 2024',
    '',
  ])('rejects %j', (text) => {
    expect(parseIsoTime(text)).toBeUndefined();
  });
});

describe('parseBatchEnvelope', () => {
  it('returns the items, sentAt and context', () => {
    const r = parseBatchEnvelope({
      batch: [valid.track, valid.identify],
      sentAt: iso(T0),
      context: { ip: '1.2.3.4' },
      writeKey: 'wk',
      integrations: { All: true },
    });
    expect(r).toEqual({
      ok: true,
      items: [valid.track, valid.identify],
      sentAt: T0,
      context: { ip: '1.2.3.4' },
    });
  });

  it('leaves sentAt and context out when absent', () => {
    expect(parseBatchEnvelope({ batch: [1] })).toStrictEqual({ ok: true, items: [1] });
  });

  it('does not validate items (each is normalised on its own)', () => {
    expect(parseBatchEnvelope({ batch: [null, 'x', {}] }).ok).toBe(true);
  });

  it.each([
    [{ batch: [] }, 'batch', 'must contain at least one event'],
    [{}, 'batch', 'required: an array of calls'],
    [{ batch: {} }, 'batch', 'got object'],
    [[valid.track], 'batch', 'wrap it as {"batch": [...]}'],
    [null, 'batch', 'send a JSON object'],
    [{ batch: [1], sentAt: 'soon' }, 'sentAt', 'is not an ISO-8601 date'],
    [{ batch: [1], context: [] }, 'context', 'must be an object'],
    [{ batch: [1], integrations: 'all' }, 'integrations', 'must be an object'],
  ])('rejects %j', (raw, field, reason) => {
    const r = parseBatchEnvelope(raw);
    if (r.ok) throw new Error('expected a rejection');
    expect(r.field).toBe(field);
    expect(r.reason).toContain(reason);
  });

  it(`accepts ${MAX_BATCH_ITEMS} items and refuses one more`, () => {
    expect(parseBatchEnvelope({ batch: new Array(MAX_BATCH_ITEMS).fill(valid.track) }).ok).toBe(true);
    const r = parseBatchEnvelope({ batch: new Array(MAX_BATCH_ITEMS + 1).fill(valid.track) });
    expect(r).toMatchObject({ ok: false, field: 'batch', reason: expect.stringContaining('split it') });
  });
});

describe('jsonByteLength', () => {
  it('counts UTF-8 bytes of the JSON text', () => {
    expect(jsonByteLength({ a: 'x' })).toBe(9);
    expect(jsonByteLength('é')).toBe(4); // quotes + 2 bytes
    expect(jsonByteLength('😀')).toBe(6); // quotes + 4 bytes
    expect(jsonByteLength(undefined)).toBe(0);
    expect(jsonByteLength(null)).toBe(4);
  });

  it('matches Buffer.byteLength for many values', () => {
    const values: unknown[] = [
      valid.track,
      [1, 'ü', { k: '\n' }],
      'a\u0000b',
      { nested: { deep: ['€'.repeat(50)] } },
    ];
    for (const v of values) expect(jsonByteLength(v)).toBe(Buffer.byteLength(JSON.stringify(v)));
  });
});
