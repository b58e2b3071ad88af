import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { fixedClock, NOTHING, type Clock } from '../../src/domain/index.js';
import { verifySignature } from '../../src/channels/index.js';
import { hashFeatures } from '../../src/learn/index.js';
import { basic, bearer, startHarness, testConfig, type Harness } from '../helpers/harness.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

const SECRET = 'a-webhook-secret-for-tests';
const T0 = Date.parse('2026-11-02T12:00:00Z');
const HOUR = 3_600_000;

let h: Harness | undefined;
let rx: Receiver | undefined;
afterEach(async () => {
  await h?.close();
  await rx?.close();
  h = undefined;
  rx = undefined;
});

const hook = (url: string) => ({ url, secret: SECRET, retry: { maxAttempts: 3, backoff: '1m' } });

const setup = async (
  over: Record<string, unknown> = {},
  clock: Clock & { advance(ms: number): void } = fixedClock(T0),
) => {
  rx = await startReceiver();
  const config = testConfig({
    goal: { event: 'Order Completed', attributionWindow: '7d' },
    holdout: { share: 0 },
    exploration: { min: 0, max: 0 },
    channels: { sms: hook(rx.url('/sms')), webhook: hook(rx.url('/hook')) },
    actions: [
      {
        id: 'sms_welcome',
        channel: 'sms',
        status: 'approved',
        trigger: { events: ['Signed Up'] },
        responseWindow: '1h',
        content: { payload: { text: 'Welcome {{ profile.traits.name | default: "friend" }}' } },
      },
      {
        id: 'hook_welcome',
        channel: 'webhook',
        status: 'approved',
        trigger: { events: ['Signed Up'] },
        responseWindow: '1h',
        content: { payload: { task: 'call {{ profile.traits.name | default: "them" }}' } },
      },
    ],
    ...over,
  });
  h = await startHarness(config, clock);
  // A model that already knows: sms best, then the webhook task, both better than doing nothing.
  const x = { idx: [], val: [] };
  for (let i = 0; i < 40; i++) {
    h.rt.learner.model.update('sms_welcome', x, i % 10 < 8 ? 1 : 0);
    h.rt.learner.model.update('hook_welcome', x, i % 10 < 5 ? 1 : 0);
    h.rt.learner.model.update(NOTHING, x, i % 10 < 1 ? 1 : 0);
  }
  return { clock, h, rx };
};

const track = (userId: string, event: string, properties: Record<string, unknown> = {}, at?: number) =>
  h!.app.inject({
    method: 'POST',
    url: '/v1/track',
    payload: {
      userId,
      event,
      properties,
      // Every test customer can be reached by sms (the phone trait travels with each call, as SDKs send it).
      context: { traits: { phone: '+44 20 7946 0000' } },
      ...(at === undefined ? {} : { timestamp: new Date(at).toISOString() }),
    },
    headers: { authorization: basic() },
  });
const identify = (userId: string, traits: Record<string, unknown>) =>
  h!.app.inject({
    method: 'POST',
    url: '/v1/identify',
    payload: { userId, traits },
    headers: { authorization: basic() },
  });
const profileId = async (userId: string) =>
  (await h!.rt.store.read.resolveProfileId(`userId:${userId}`)) as string;

describe('the live loop: signal → decision → delivery → response window → fallback', () => {
  it('a triggering event becomes a decision and a signed webhook delivery, with a receipt on the timeline', async () => {
    const { h, rx } = await setup();
    await identify('u1', { name: 'Ada', phone: '+44 20 7946 0000' });
    expect((await track('u1', 'Signed Up', {}, T0)).statusCode).toBe(200);
    const pid = await profileId('u1');
    expect(await h.rt.store.read.countTimers(pid)).toBe(1);
    await h.rt.loop.runOnce();

    expect(rx.requests).toHaveLength(1);
    const req = rx.requests[0]!;
    expect(req.path).toBe('/sms');
    expect(req.json.actionId).toBe('sms_welcome');
    expect(req.json.content).toEqual({ text: 'Welcome Ada' });
    const ts = String(req.headers['x-pathwise-timestamp']);
    expect(verifySignature(SECRET, ts, req.body, String(req.headers['x-pathwise-signature']), 300, T0)).toBe(
      true,
    );
    const [delivery] = await h.rt.store.read.deliveriesOf(pid);
    expect(delivery).toMatchObject({ status: 'sent', actionId: 'sms_welcome', attempts: 1 });
    expect(req.headers['idempotency-key']).toBe(delivery!.idempotencyKey);

    const timeline = await h.app.inject({
      method: 'GET',
      url: `/v1/profiles/${pid}/timeline`,
      headers: { authorization: bearer() },
    });
    const names = timeline
      .json()
      .items.map((i: { kind: string; event?: { event: string } }) => i.event?.event ?? i.kind);
    expect(names).toContain('Message Sent');
    expect(names).toContain('decision');
    // The decide timer is gone; the response window is pending.
    expect(await h.rt.store.read.countTimers(pid)).toBe(1);
  });

  it('no response within the window: re-decides without that action, on another channel', async () => {
    const { h, rx, clock } = await setup();
    await identify('u2', { name: 'Grace' });
    await track('u2', 'Signed Up', {}, T0);
    await h.rt.loop.runOnce();
    expect(rx.requests.map((r) => r.json.actionId)).toEqual(['sms_welcome']);
    clock.advance(HOUR + 1000);
    await h.rt.loop.runOnce();
    expect(rx.requests.map((r) => r.json.actionId)).toEqual(['sms_welcome', 'hook_welcome']);
    expect(rx.requests[1]!.path).toBe('/hook');
    // Both tried: the next window ends with no alternative left.
    clock.advance(HOUR + 1000);
    await h.rt.loop.runOnce();
    expect(rx.requests).toHaveLength(2);
    const pid = await profileId('u2');
    const decisions = await h.rt.store.read.recentDecisions(pid, 0);
    expect(decisions.map((d) => d.actionId).sort()).toEqual(['hook_welcome', 'sms_welcome']);

    // The fallback saw the event its chain started from, and that it is a fallback after the sms: the slots
    // those features hash to (the difference from the same moment without them) are all in its vector.
    const fallback = await h.rt.store.read.getDecision(
      decisions.find((d) => d.actionId === 'hook_welcome')!.decisionId,
    );
    const bits = h.rt.learner.model.settings.featureBits;
    const base = { traits: {}, computed: {}, segments: [], at: fallback!.at };
    const bare = new Set(hashFeatures(base, bits).idx);
    const own = hashFeatures(
      {
        ...base,
        event: { name: 'Signed Up', properties: {} },
        context: { fallback: true, tried: ['sms_welcome'] },
      },
      bits,
    ).idx.filter((i) => !bare.has(i));
    expect(own.length).toBeGreaterThanOrEqual(3);
    expect(fallback!.features.idx).toEqual(expect.arrayContaining(own));
  });

  it('a response inside the window ends the chain', async () => {
    const { h, rx, clock } = await setup();
    await track('u3', 'Signed Up', {}, T0);
    await h.rt.loop.runOnce();
    const decisionId = String(rx.requests[0]!.json.decisionId);
    const res = await h.app.inject({
      method: 'POST',
      url: `/v1/decisions/${decisionId}/outcome`,
      payload: { type: 'conversion' },
      headers: { authorization: basic() },
    });
    expect(res.json().status).toBe('recorded');
    clock.advance(HOUR + 1000);
    await h.rt.loop.runOnce();
    expect(rx.requests).toHaveLength(1);
  });

  it('a customer who reached the goal since gets no fallback, even if the order was credited elsewhere', async () => {
    // A one-second attribution window: the order is not credited to the sms decision.
    const { h, rx, clock } = await setup({ goal: { event: 'Order Completed', attributionWindow: '1s' } });
    await track('u10', 'Signed Up', {}, T0);
    await h.rt.loop.runOnce();
    clock.advance(10 * 60_000);
    await track('u10', 'Order Completed', { total: 20 }, clock.now());
    clock.advance(HOUR);
    await h.rt.loop.runOnce();
    expect(rx.requests.map((r) => r.json.actionId)).toEqual(['sms_welcome']);
  });

  it('a message that cannot be delivered is replaced at once by an alternative', async () => {
    const { h, rx } = await setup();
    rx.failNext = [400];
    await track('u11', 'Signed Up', {}, T0);
    await h.rt.loop.runOnce();
    await h.rt.loop.runOnce();
    expect(rx.requests.map((r) => `${r.path} ${r.json.actionId}`)).toEqual([
      '/sms sms_welcome',
      '/hook hook_welcome',
    ]);
    // The failed sms does not count as a contact: the webhook task was not held back as "in flight".
    const pid = await profileId('u11');
    const sends = await h.rt.store.read.recentDecisions(pid, 0);
    expect(sends.map((x) => x.actionId)).toEqual(['hook_welcome']);
  });

  it('a timer that came due while the process was down fires after the restart', async () => {
    const { h, rx } = await setup();
    await track('u4', 'Signed Up', {}, T0);
    await h.restart(); // the model restarts untrained: keep it deciding for the sms
    for (let i = 0; i < 40; i++) h.rt.learner.model.update('sms_welcome', { idx: [], val: [] }, 1);
    await h.rt.loop.runOnce();
    expect(rx.requests.map((r) => r.json.actionId)).toEqual(['sms_welcome']);
  });

  it('events older than an hour (imports of history) trigger nothing', async () => {
    const { h } = await setup();
    await track('u5', 'Signed Up', {}, T0 - 2 * HOUR);
    expect(await h.rt.store.read.countTimers()).toBe(0);
  });
});

describe('templates are checked when the config is loaded, not at send time', () => {
  it('a reload whose new action has a broken template is refused, and the running config stays', async () => {
    const { h } = await setup();
    const text = stringify({
      sources: [{ name: 'web', writeKey: 'wk_test_web_key' }],
      goal: { event: 'Order Completed' },
      channels: { sms: hook(rx!.url('/sms')) },
      actions: [
        {
          id: 'sms_broken',
          channel: 'sms',
          status: 'approved',
          trigger: { events: ['Signed Up'] },
          content: { payload: { text: 'Hi {% if %}' } },
        },
      ],
    });
    const r = await h.rt.reconfigure(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]?.path).toBe('actions[0].content.payload.text');
    expect(h.rt.decisions.current.byId.has('sms_welcome')).toBe(true);
  });
});

describe('deliveries that fail, conversions, and people at the controls', () => {
  it('retries a failing provider with backoff, then dead-letters it and learns the failure', async () => {
    const { h, rx, clock } = await setup();
    rx.failNext = [503, 503, 503];
    await track('u6', 'Signed Up', {}, T0);
    await h.rt.loop.runOnce();
    const pid = await profileId('u6');
    expect((await h.rt.store.read.deliveriesOf(pid))[0]).toMatchObject({ status: 'pending', attempts: 1 });
    // Not before the backoff (1 minute ± 20%).
    clock.advance(40_000);
    await h.rt.loop.runOnce();
    expect(rx.requests).toHaveLength(1);
    clock.advance(60_000);
    await h.rt.loop.runOnce();
    clock.advance(3 * 60_000);
    await h.rt.loop.runOnce();
    expect(rx.requests).toHaveLength(3);
    const [d] = await h.rt.store.read.deliveriesOf(pid);
    expect(d).toMatchObject({ status: 'failed', attempts: 3 });
    expect(d!.reason).toContain('503');
    const decision = await h.rt.store.read.getDecision(d!.decisionId);
    expect(decision?.resolution).toMatchObject({ kind: 'none', reward: 0 });
    const dead = await h.rt.store.read.deadLetters({ limit: 10 });
    expect(dead.items.map((x) => x.code)).toContain('PW_ERR_DELIVERY_FAILED');
  });

  it('a conversion cancels the messages still queued for that customer', async () => {
    const quiet = { quietHours: { start: '00:00', end: '23:59', defaultTimezone: 'UTC' } };
    const { h, rx } = await setup({ policy: quiet });
    await track('u7', 'Signed Up', {}, T0);
    await h.rt.loop.runOnce();
    const pid = await profileId('u7');
    const [queued] = await h.rt.store.read.deliveriesOf(pid);
    expect(queued?.status).toBe('pending');
    expect(queued!.sendAt).toBeGreaterThan(T0);
    await track('u7', 'Order Completed', { total: 10 }, T0 + 1000);
    const [after] = await h.rt.store.read.deliveriesOf(pid);
    expect(after).toMatchObject({ status: 'cancelled', reason: 'the customer reached the goal' });
    await h.rt.loop.runOnce();
    expect(rx.requests).toHaveLength(0);
  });

  it('pausing an action cancels its queued sends and stops new ones; every change is audited', async () => {
    const quiet = {
      quietHours: { start: '00:00', end: '23:59', defaultTimezone: 'UTC', channels: ['sms', 'webhook'] },
    };
    const { h, rx, clock } = await setup({ policy: quiet });
    await track('u8', 'Signed Up', {}, T0);
    await h.rt.loop.runOnce();
    const admin = (url: string, payload?: unknown) =>
      h.app.inject({
        method: 'POST',
        url,
        ...(payload ? { payload: payload as object } : {}),
        headers: { authorization: bearer() },
      });
    expect((await admin('/v1/admin/actions/nope/pause')).statusCode).toBe(404);
    const paused = await admin('/v1/admin/actions/sms_welcome/pause');
    expect(paused.json()).toEqual({ change: 'action.pause', target: 'sms_welcome', cancelled: 1 });
    const pid = await profileId('u8');
    expect((await h.rt.store.read.deliveriesOf(pid))[0]?.status).toBe('cancelled');

    // New decisions skip the paused action; the kill switch stops everything.
    await track('u9', 'Signed Up', {}, T0);
    await h.rt.loop.runOnce();
    const pid9 = await profileId('u9');
    expect((await h.rt.store.read.deliveriesOf(pid9))[0]?.actionId).toBe('hook_welcome');
    const ks = await admin('/v1/admin/kill-switch', { on: true });
    expect(ks.json().cancelled).toBe(1);
    clock.advance(24 * HOUR);
    await h.rt.loop.runOnce();
    expect(rx.requests).toHaveLength(0);

    // The controls survive a restart.
    await h.restart();
    expect(h.rt.oversight.current.killSwitch).toBe(true);
    expect([...h.rt.oversight.current.paused]).toEqual(['sms_welcome']);

    const audit = await h.app.inject({
      method: 'GET',
      url: '/v1/admin/audit',
      headers: { authorization: bearer() },
    });
    expect(audit.json().items.map((e: { change: string }) => e.change)).toEqual([
      'kill-switch.on',
      'action.pause',
    ]);
    expect(
      (await h.app.inject({ method: 'GET', url: '/v1/admin/audit', headers: { authorization: basic() } }))
        .statusCode,
    ).toBe(401);
  });
});
