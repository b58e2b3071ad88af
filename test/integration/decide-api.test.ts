import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openRuntime, serverFor } from '../../src/runtime.js';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { fixedClock, NOTHING } from '../../src/domain/index.js';
import { basic, bearer, startHarness, testConfig, type Harness } from '../helpers/harness.js';

let h: Harness;
afterEach(async () => h?.close());

const DAY = 86_400_000;
const T0 = Date.parse('2026-11-02T12:00:00Z');

const decisioning = {
  goal: {
    event: 'Order Completed',
    value: { property: 'total', default: 40 },
    attributionWindow: '3d',
    engagement: [{ name: 'click', event: 'Banner Clicked', weight: 0.3 }],
  },
  placements: [{ id: 'home' }],
  holdout: { share: 0 },
  policy: { doNotRepeat: '7d' },
  actions: [
    {
      id: 'banner_a',
      channel: 'web',
      status: 'approved',
      trigger: { placements: ['home'] },
      content: { payload: { headline: 'A' } },
    },
    {
      id: 'banner_b',
      channel: 'web',
      status: 'approved',
      trigger: { placements: ['home'] },
      content: { payload: { headline: 'B' } },
    },
    {
      id: 'welcome',
      channel: 'email',
      status: 'approved',
      trigger: { events: ['Signed Up'] },
      content: { subject: 'Welcome', body: 'Hello {{ profile.traits.name | default: "there" }}' },
    },
  ],
};
const config = (over: Record<string, unknown> = {}) => testConfig({ ...decisioning, ...over });

const post = (url: string, payload: unknown, authorization = basic()) =>
  h.app.inject({ method: 'POST', url, payload: payload as object, headers: { authorization } });
const get = async (url: string, authorization = bearer()) => {
  const res = await h.app.inject({ method: 'GET', url, headers: { authorization } });
  return { status: res.statusCode, body: res.json() };
};
const decideFor = async (who: Record<string, string>, context: Record<string, unknown> = {}) => {
  const res = await post('/v1/decide', { ...who, placement: 'home', context });
  expect(res.statusCode).toBe(200);
  return res.json() as { decisionId: string; profileId: string; action: { id: string } | null; mode: string };
};

describe('POST /v1/decide', () => {
  it('decides for an unknown customer, creating the profile, and explains the decision', async () => {
    h = await startHarness(config());
    const d = await decideFor({ anonymousId: 'visitor-1' }, { page: '/' });
    expect(['exploit', 'explore']).toContain(d.mode);
    if (d.action !== null) expect(['banner_a', 'banner_b']).toContain(d.action.id);
    const profile = await get('/v1/profiles/visitor-1');
    expect(profile.status).toBe(200);
    expect(profile.body.id).toBe(d.profileId);

    const logged = await get(`/v1/decisions/${d.decisionId}`);
    expect(logged.status).toBe(200);
    const e = logged.body.explanation;
    expect(e.candidates.map((c: { actionId: string }) => c.actionId)).toEqual(['banner_a', 'banner_b']);
    expect(e.propensity).toBeGreaterThan(0);
    expect(e.propensity).toBeLessThanOrEqual(1);
    expect(logged.body.propensity).toBe(e.propensity);
    expect(e.nothing.probabilityChosen).toBeGreaterThan(0);
    expect(typeof e.summary).toBe('string');
    expect(logged.body.featureCount).toBeGreaterThan(3);
    expect(logged.body.features).toBeUndefined();

    // The timeline shows the decision.
    const timeline = await get(`/v1/profiles/${d.profileId}/timeline`);
    const item = timeline.body.items.find((i: { kind: string }) => i.kind === 'decision');
    expect(item.decision.id).toBe(d.decisionId);
    expect(item.decision.summary).toBe(e.summary);

    const metrics = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain(
      `pathwise_decisions_total{mode="${d.mode}",action="${d.action?.id ?? 'none'}"} 1`,
    );
  });

  it('concurrent first requests of a new visitor create one profile, and every decision points at it', async () => {
    h = await startHarness(config());
    const all = await Promise.all([1, 2, 3, 4].map(() => decideFor({ anonymousId: 'racer' })));
    const profile = (await get('/v1/profiles/racer')).body.id as string;
    expect(all.map((d) => d.profileId)).toEqual([profile, profile, profile, profile]);
    for (const d of all) expect((await get(`/v1/decisions/${d.decisionId}`)).body.profileId).toBe(profile);
  });

  it('the same customer keeps one profile across decisions', async () => {
    h = await startHarness(config());
    const a = await decideFor({ userId: 'u1' });
    const b = await decideFor({ userId: 'u1' });
    expect(b.profileId).toBe(a.profileId);
  });

  it('bad input is a 400 naming the field, and nothing is logged', async () => {
    h = await startHarness(config());
    const cases: Array<[unknown, string, string]> = [
      [{ anonymousId: 'v', placement: 'nope' }, 'PW_ERR_DECIDE_PLACEMENT', 'placement'],
      [{ placement: 'home' }, 'PW_ERR_DECIDE_INVALID', 'userId'],
      [
        { anonymousId: 'v', placement: 'home', context: { x: { deep: 1 } } },
        'PW_ERR_DECIDE_INVALID',
        'context.x',
      ],
      [{ anonymousId: 'v', placement: 'home', context: 'text' }, 'PW_ERR_DECIDE_INVALID', 'context'],
      [{ anonymousId: 7, placement: 'home' }, 'PW_ERR_DECIDE_INVALID', 'anonymousId'],
      [{ anonymousId: 'v', placement: 'home', colour: 'red' }, 'PW_ERR_DECIDE_INVALID', 'colour'],
    ];
    for (const [body, code, field] of cases) {
      const res = await post('/v1/decide', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json()).toMatchObject({ code, field });
    }
    const notJson = await h.app.inject({
      method: 'POST',
      url: '/v1/decide',
      payload: '{"placement":',
      headers: { authorization: basic(), 'content-type': 'application/json' },
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().code).toBe('PW_ERR_DECIDE_INVALID');
    expect(
      (await post('/v1/decide', { anonymousId: 'v', placement: 'home' }, basic('wrong-key'))).statusCode,
    ).toBe(401);
    expect((await get('/v1/profiles/v')).status).toBe(404);
  });

  it('reading decisions needs the admin key; an unknown id is a 404', async () => {
    h = await startHarness(config());
    const d = await decideFor({ anonymousId: 'v' });
    expect((await get(`/v1/decisions/${d.decisionId}`, basic())).status).toBe(401);
    const missing = await get('/v1/decisions/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('PW_ERR_DECISION_NOT_FOUND');
  });
});

describe('outcomes and learning', () => {
  it('a goal event within the window rewards the last decision with the order value, and the model learns', async () => {
    const clock = fixedClock(T0);
    h = await startHarness(config(), clock);
    const first = await decideFor({ userId: 'u1' });
    clock.advance(60_000);
    const last = await decideFor({ userId: 'u1' });
    const before = h.rt.learner.model.version;
    clock.advance(60_000);
    const res = await post('/v1/track', {
      userId: 'u1',
      event: 'Order Completed',
      properties: { order_id: 'o1', total: 80 },
      timestamp: new Date(clock.now()).toISOString(),
    });
    expect(res.statusCode).toBe(200);
    const rewarded = (await get(`/v1/decisions/${last.decisionId}`)).body;
    expect(rewarded.resolution).toMatchObject({ kind: 'goal', reward: 1, value: 80 });
    expect(rewarded.outcomes[0]).toMatchObject({ kind: 'goal', value: 80 });
    // Last-touch: the earlier decision is still open, settled when its window ends.
    expect((await get(`/v1/decisions/${first.decisionId}`)).body.resolution).toBeUndefined();
    await h.rt.learner.catchUp();
    expect(h.rt.learner.model.version).toBe(before + 1);
    expect(h.rt.learner.model.observations(last.action?.id ?? NOTHING)).toBe(1);

    clock.advance(3 * DAY);
    expect(await h.rt.outcomes.sweep()).toBe(1);
    const settled = (await get(`/v1/decisions/${first.decisionId}`)).body;
    expect(settled.resolution).toMatchObject({ kind: 'none', reward: 0 });
    expect(h.rt.learner.model.version).toBe(before + 2);
  });

  it('with goal.learnAt window-end, a credited goal is learned when the window ends, as misses are', async () => {
    const clock = fixedClock(T0);
    h = await startHarness(config({ goal: { ...decisioning.goal, learnAt: 'window-end' } }), clock);
    const won = await decideFor({ userId: 'w1' });
    const lost = await decideFor({ userId: 'w2' });
    const clicked = await decideFor({ userId: 'w3' });
    const before = h.rt.learner.model.version;
    clock.advance(60_000);
    const order = await post('/v1/track', {
      userId: 'w1',
      event: 'Order Completed',
      properties: { order_id: 'o1', total: 80 },
      timestamp: new Date(clock.now()).toISOString(),
    });
    expect(order.statusCode).toBe(200);
    const conversion = await post(`/v1/decisions/${clicked.decisionId}/outcome`, { type: 'conversion' });
    expect(conversion.statusCode).toBe(200);
    // Credited, not yet learned: no resolution, the model unchanged.
    const held = (await get(`/v1/decisions/${won.decisionId}`)).body;
    expect(held.outcomes[0]).toMatchObject({ kind: 'goal', value: 80 });
    expect(held.resolution).toBeUndefined();
    expect((await get(`/v1/decisions/${clicked.decisionId}`)).body.resolution).toBeUndefined();
    await h.rt.learner.catchUp();
    expect(h.rt.learner.model.version).toBe(before);

    // The windows end: the goals and the miss are learned together.
    clock.advance(3 * DAY);
    expect(await h.rt.outcomes.sweep()).toBe(3);
    expect((await get(`/v1/decisions/${won.decisionId}`)).body.resolution).toMatchObject({
      kind: 'goal',
      reward: 1,
      value: 80,
    });
    expect((await get(`/v1/decisions/${clicked.decisionId}`)).body.resolution).toMatchObject({
      kind: 'goal',
      reward: 1,
      value: 40,
    });
    expect((await get(`/v1/decisions/${lost.decisionId}`)).body.resolution).toMatchObject({
      kind: 'none',
      reward: 0,
    });
    expect(h.rt.learner.model.version).toBe(before + 3);
  });

  it('an engagement event naming the decision counts when the goal never comes', async () => {
    const clock = fixedClock(T0);
    h = await startHarness(config(), clock);
    const d = await decideFor({ userId: 'u2' });
    await post('/v1/track', {
      userId: 'u2',
      event: 'Banner Clicked',
      properties: { decisionId: d.decisionId },
    });
    const open = (await get(`/v1/decisions/${d.decisionId}`)).body;
    expect(open.outcomes).toEqual([expect.objectContaining({ kind: 'engagement', reward: 0.3 })]);
    expect(open.resolution).toBeUndefined();
    clock.advance(3 * DAY + 1);
    await h.rt.outcomes.sweep();
    expect((await get(`/v1/decisions/${d.decisionId}`)).body.resolution).toMatchObject({
      kind: 'engagement',
      reward: 0.3,
    });
  });

  it('explicit feedback: conversion resolves once, retries are safe, bad types are a 400', async () => {
    h = await startHarness(config());
    const d = await decideFor({ userId: 'u3' });
    const url = `/v1/decisions/${d.decisionId}/outcome`;
    const bad = await post(url, { type: 'purchase' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'PW_ERR_OUTCOME_INVALID', field: 'type' });
    expect(bad.json().message).toContain('conversion, dismiss, impression, click');
    expect((await post(url, { type: 'impression', messageId: 'view-1' })).json()).toMatchObject({
      status: 'recorded',
      resolved: false,
    });
    expect((await post(url, { type: 'click', messageId: 'c1' })).json()).toMatchObject({
      status: 'recorded',
    });
    expect((await post(url, { type: 'click', messageId: 'c1' })).json()).toMatchObject({
      status: 'duplicate',
    });
    expect((await post(url, { type: 'conversion', value: 12 })).json()).toMatchObject({
      status: 'recorded',
      resolved: true,
    });
    expect((await post(url, { type: 'dismiss' })).json()).toMatchObject({ status: 'already-resolved' });
    expect((await get(`/v1/decisions/${d.decisionId}`)).body.resolution).toMatchObject({
      kind: 'goal',
      value: 12,
    });
    expect((await post('/v1/decisions/nope/outcome', { type: 'click' })).statusCode).toBe(404);
    // Every report is on the customer's timeline: the impression, the click, the conversion and the dismissal.
    const timeline = await get(`/v1/profiles/${d.profileId}/timeline?limit=20`);
    const reports = timeline.body.items
      .filter((i: { kind: string }) => i.kind === 'event')
      .map((i: { event: { event: string; properties: { type?: string } } }) =>
        i.event.event === 'Placement Viewed' ? 'viewed' : i.event.properties.type,
      );
    expect(reports).toEqual(['dismiss', 'conversion', 'click', 'viewed']);
  });

  it('what the model learned survives a restart, from a snapshot or by replaying the reward log', async () => {
    h = await startHarness(config());
    for (let i = 0; i < 5; i++) {
      const d = await decideFor({ userId: `r${i}` });
      await post(`/v1/decisions/${d.decisionId}/outcome`, { type: i % 2 === 0 ? 'conversion' : 'dismiss' });
    }
    const learned = h.rt.learner.model.snapshot();
    expect(learned.version).toBe(5);
    await h.restart();
    expect(h.rt.learner.model.snapshot()).toEqual(learned);
    // Without any snapshot (as after a crash before the first one), the log is replayed to the same model.
    const runtimeBefore = h.rt;
    await h.restart(() => {
      const db = new Database(h.db);
      expect(db.prepare('DELETE FROM model_snapshots').run().changes).toBeGreaterThan(0);
      db.close();
    });
    expect(h.rt).not.toBe(runtimeBefore);
    expect(h.rt.learner.model.snapshot()).toEqual(learned);
  });
});

describe('contact policy over the decision log, and config changes at run time', () => {
  it('does not repeat a message action within its window (history comes from the store)', async () => {
    const clock = fixedClock(T0);
    const email = {
      smtp: { host: '127.0.0.1', port: 9 },
      from: 'Shop <news@shop.example>',
      publicUrl: 'http://localhost:3000',
      linkSecret: 'a-link-secret-for-tests',
    };
    h = await startHarness(config({ exploration: { min: 0, max: 0 }, channels: { email } }), clock);
    // Teach the model that the welcome email works, so it is chosen whenever allowed.
    await post('/v1/identify', { userId: 'u9', traits: { email: 'u9@example.com' } });
    const profile = (await h.rt.store.read.getProfile(
      (await h.rt.store.read.resolveProfileId('userId:u9')) as string,
    ))!;
    const signal = { kind: 'event' as const, event: 'Signed Up', messageId: 'm1', properties: {} };
    for (let i = 0; i < 30; i++) h.rt.learner.model.update('welcome', { idx: [], val: [] }, 1);
    const first = (await h.rt.decisions.decideFor(profile, signal))!;
    expect(first.actionId).toBe('welcome');
    clock.advance(DAY);
    const again = (await h.rt.decisions.decideFor(profile, signal))!;
    expect(again.actionId).toBeNull();
    expect(again.explanation.candidates[0]?.removed?.rule).toBe('policy.doNotRepeat');
  });

  it('the contact history reaches back over the longest response window, so a message stays in flight', async () => {
    const clock = fixedClock(T0);
    const email = {
      smtp: { host: '127.0.0.1', port: 9 },
      from: 'Shop <news@shop.example>',
      publicUrl: 'http://localhost:3000',
      linkSecret: 'a-link-secret-for-tests',
    };
    const actions = decisioning.actions.map((a) => (a.id === 'welcome' ? { ...a, responseWindow: '3d' } : a));
    h = await startHarness(
      config({
        exploration: { min: 0, max: 0 },
        channels: { email },
        policy: { doNotRepeat: '0s' },
        actions,
      }),
      clock,
    );
    await post('/v1/identify', { userId: 'u8', traits: { email: 'u8@example.com' } });
    const profile = (await h.rt.store.read.getProfile(
      (await h.rt.store.read.resolveProfileId('userId:u8')) as string,
    ))!;
    const signal = { kind: 'event' as const, event: 'Signed Up', messageId: 'm1', properties: {} };
    for (let i = 0; i < 30; i++) h.rt.learner.model.update('welcome', { idx: [], val: [] }, 1);
    expect((await h.rt.decisions.decideFor(profile, signal))!.actionId).toBe('welcome');
    // Two days on, the first welcome is still inside its three-day window, unanswered.
    clock.advance(2 * DAY);
    const again = (await h.rt.decisions.decideFor(profile, signal))!;
    expect(again.actionId).toBeNull();
    expect(again.explanation.candidates[0]?.removed?.rule).toBe('policy.oneMessageInFlight');
  });

  it('a config with errors is refused as a whole; a valid one applies (kill switch, paused action)', async () => {
    h = await startHarness(config());
    const refused = await h.rt.reconfigure('actions:\n  - id: x\n    channel: fax\n');
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.issues.some((i) => i.path.startsWith('actions[0].channel'))).toBe(true);
    expect((await decideFor({ anonymousId: 'k1' })).mode).not.toBe('kill-switch');

    const text = (over: Record<string, unknown>) =>
      stringify({
        sources: [{ name: 'web', writeKey: 'wk_test_web_key' }],
        admin: { key: 'admin_test_key' },
        ...decisioning,
        ...over,
      });
    const applied = await h.rt.reconfigure(text({ policy: { killSwitch: true } }));
    expect(applied).toEqual({ ok: true, restartNeeded: [] });
    const killed = await decideFor({ anonymousId: 'k2' });
    expect(killed.mode).toBe('kill-switch');
    expect(killed.action).toBeNull();

    const paused = decisioning.actions.map((a) => (a.id === 'banner_a' ? { ...a, status: 'paused' } : a));
    expect((await h.rt.reconfigure(text({ actions: paused }))).ok).toBe(true);
    const d = await decideFor({ anonymousId: 'k3' });
    const logged = (await get(`/v1/decisions/${d.decisionId}`)).body;
    expect(logged.explanation.candidates[0]).toMatchObject({
      actionId: 'banner_a',
      removed: { stage: 'eligibility', rule: 'actions[0].status' },
    });
  });
});

describe('POST /v1/admin/config/reload', () => {
  it('re-reads the config file: a broken file is refused with every issue, a valid one applies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pathwise-reload-'));
    const file = join(dir, 'pathwise.yaml');
    const base = {
      sources: [{ name: 'web', writeKey: 'wk_test_web_key' }],
      admin: { key: 'admin_test_key' },
    };
    writeFileSync(file, stringify({ ...base, ...decisioning }));
    const rt = await openRuntime({
      config: config(),
      db: join(dir, 'db'),
      env: {},
      logger: pino({ level: 'silent' }),
      configFile: file,
    });
    const app = serverFor(rt);
    try {
      const reload = (authorization = bearer()) =>
        app.inject({ method: 'POST', url: '/v1/admin/config/reload', headers: { authorization } });
      expect((await reload(basic())).statusCode).toBe(401);

      writeFileSync(
        file,
        stringify({ ...base, ...decisioning, policy: { killSwitch: 'yes', doNotRepeat: 'soon' } }),
      );
      const refused = await reload();
      expect(refused.statusCode).toBe(400);
      expect(refused.json().code).toBe('PW_ERR_CONFIG_INVALID');
      expect(
        refused
          .json()
          .issues.map((i: { path: string }) => i.path)
          .sort(),
      ).toEqual(['policy.doNotRepeat', 'policy.killSwitch']);
      const still = await app.inject({
        method: 'POST',
        url: '/v1/decide',
        payload: { anonymousId: 'r1', placement: 'home' },
        headers: { authorization: basic() },
      });
      expect(still.json().mode).not.toBe('kill-switch');

      writeFileSync(
        file,
        stringify({
          ...base,
          ...decisioning,
          policy: { killSwitch: true },
          segments: [{ name: 's', where: 'true' }],
        }),
      );
      const applied = await reload();
      expect(applied.json()).toEqual({ success: true, restartNeeded: ['segments'] });
      const killed = await app.inject({
        method: 'POST',
        url: '/v1/decide',
        payload: { anonymousId: 'r2', placement: 'home' },
        headers: { authorization: basic() },
      });
      expect(killed.json().mode).toBe('kill-switch');
    } finally {
      await app.close();
      await rt.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('outcome edge cases', () => {
  it('an engagement event from another customer does not count for a decision', async () => {
    h = await startHarness(config());
    const d = await decideFor({ userId: 'owner' });
    await post('/v1/track', {
      userId: 'stranger',
      event: 'Banner Clicked',
      properties: { decisionId: d.decisionId },
    });
    expect((await get(`/v1/decisions/${d.decisionId}`)).body.outcomes).toEqual([]);
  });

  it('a body that is not an object is a 400 without a field', async () => {
    h = await startHarness(config());
    const res = await post('/v1/decide', []);
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toContain('the body must be a JSON object');
    expect(res.json().field).toBeUndefined();
  });
});

describe('last-touch attribution', () => {
  it('credits only the latest decision in the window, never an older one once the latest is settled', async () => {
    const clock = fixedClock(T0);
    h = await startHarness(config(), clock);
    const older = await decideFor({ userId: 'buyer' });
    clock.advance(60_000);
    const latest = await decideFor({ userId: 'buyer' });
    clock.advance(60_000);
    // The site reports the conversion on the latest decision, then the backend sends the order event too.
    await post(`/v1/decisions/${latest.decisionId}/outcome`, {
      type: 'conversion',
      value: 60,
      messageId: 'order-1',
    });
    const order = (id: string) =>
      post('/v1/track', {
        userId: 'buyer',
        event: 'Order Completed',
        messageId: id,
        properties: { order_id: id, total: 60 },
        timestamp: new Date(clock.now()).toISOString(),
      });
    await order('order-1');
    clock.advance(60_000);
    await order('order-2');
    expect((await get(`/v1/decisions/${older.decisionId}`)).body.resolution).toBeUndefined();
    expect((await get(`/v1/decisions/${latest.decisionId}`)).body.outcomes).toHaveLength(1);
  });
});
