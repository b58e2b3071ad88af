import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { fixedClock, NOTHING } from '../../src/domain/index.js';
import { runCli } from '../helpers/cli.js';
import {
  ADMIN_KEY,
  basic,
  bearer,
  startHarness,
  testConfig,
  WRITE_KEY,
  type Harness,
} from '../helpers/harness.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

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

/** Ada's identifiers: distinctive, so a substring search of the database finds nothing else by accident. */
const ADA = {
  userId: 'user-ada-9X4QZ',
  anonymousId: 'anon-ada-7Q2WK',
  legacyId: 'legacy-ada-3K8VB',
  email: 'Ada.Lovelace@Example.org',
  phone: '+44 20 7946 0123',
};
/** Every form in which one of Ada's identifiers could be stored (emails lower-cased, phones as digits). */
const ADA_NEEDLES = [
  ADA.userId,
  ADA.anonymousId,
  ADA.legacyId,
  ADA.email.toLowerCase(),
  '7946 0123',
  '2079460123',
];

const settings = (url: (path: string) => string) =>
  testConfig({
    goal: { event: 'Order Completed', attributionWindow: '7d' },
    holdout: { share: 0 },
    exploration: { min: 0, max: 0 },
    placements: [{ id: 'home' }],
    channels: {
      sms: {
        url: url('/sms'),
        secret: 'a-webhook-secret-for-tests',
        retry: { maxAttempts: 3, backoff: '1m' },
      },
    },
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
        id: 'banner',
        channel: 'web',
        status: 'approved',
        trigger: { placements: ['home'] },
        content: { payload: { headline: 'Hello' } },
      },
    ],
  });

const setup = async () => {
  rx = await startReceiver();
  const clock = fixedClock(T0);
  h = await startHarness(settings(rx.url), clock);
  // A model that already prefers the sms over doing nothing, so the trigger sends one.
  const x = { idx: [], val: [] };
  for (let i = 0; i < 40; i++) {
    h.rt.learner.model.update('sms_welcome', x, i % 10 < 8 ? 1 : 0);
    h.rt.learner.model.update(NOTHING, x, i % 10 < 1 ? 1 : 0);
  }
  return { h, rx, clock };
};

const send = (path: string, payload: unknown) =>
  h!.app.inject({
    method: 'POST',
    url: path,
    payload: payload as object,
    headers: { authorization: basic() },
  });
const admin = async (method: 'GET' | 'DELETE', url: string) => {
  const res = await h!.app.inject({ method, url, headers: { authorization: bearer() } });
  return { status: res.statusCode, body: res.json() };
};
const at = (ms: number) => new Date(ms).toISOString();

/** Writes Ada through every path: ingest calls, a merge, an alias, a placement decision and its outcome, a
 * triggered message (its delivery left pending by a failing provider), a pending trigger timer, a dead letter. */
const writeAda = async () => {
  const ok = async (path: string, payload: unknown) =>
    expect((await send(path, payload)).statusCode).toBe(200);
  await ok('/v1/page', { anonymousId: ADA.anonymousId, name: 'Home', timestamp: at(T0 - 5000) });
  await ok('/v1/track', {
    anonymousId: ADA.anonymousId,
    event: 'Product Viewed',
    properties: { sku: 'sku-1' },
    timestamp: at(T0 - 4000),
  });
  const anonProfile = (await admin('GET', `/v1/profiles/${ADA.anonymousId}`)).body.id as string;
  // Ada signed in on another device first: two profiles, merged by the identify below.
  await ok('/v1/identify', {
    userId: ADA.userId,
    traits: { email: ADA.email, name: 'Ada' },
    timestamp: at(T0 - 3000),
  });
  await ok('/v1/identify', {
    userId: ADA.userId,
    anonymousId: ADA.anonymousId,
    traits: { phone: ADA.phone },
    timestamp: at(T0 - 2000),
  });
  await ok('/v1/alias', { userId: ADA.userId, previousId: ADA.legacyId, timestamp: at(T0 - 1000) });
  const placed = await send('/v1/decide', { userId: ADA.userId, placement: 'home', context: { path: '/' } });
  expect(placed.statusCode).toBe(200);
  const placement = placed.json() as { decisionId: string; profileId: string };
  await ok(`/v1/decisions/${placement.decisionId}/outcome`, { type: 'conversion', value: 12 });
  // A triggered sms: the provider fails, so the delivery stays pending for a retry in a minute.
  rx!.failNext = [503];
  await ok('/v1/track', {
    userId: ADA.userId,
    event: 'Signed Up',
    context: { traits: { phone: ADA.phone } },
    timestamp: at(T0),
  });
  await h!.rt.loop.runOnce();
  expect(rx!.requests).toHaveLength(1);
  // Another trigger whose decide timer has not fired yet.
  await ok('/v1/track', {
    userId: ADA.userId,
    event: 'Signed Up',
    messageId: 'ada-signup-2',
    timestamp: at(T0),
  });
  // A bad event carrying her userId: rejected and dead-lettered.
  expect((await send('/v1/track', { userId: ADA.userId, properties: { plan: 'pro' } })).statusCode).toBe(400);
  return { profileId: placement.profileId, anonProfile, placementDecision: placement.decisionId };
};

const writeBob = async () => {
  expect(
    (await send('/v1/identify', { userId: 'user-bob', traits: { email: 'bob@example.net' } })).statusCode,
  ).toBe(200);
  expect((await send('/v1/track', { userId: 'user-bob', event: 'Product Viewed' })).statusCode).toBe(200);
};

/** Every TEXT or BLOB cell of every table in the file that contains one of the needles (case-insensitive). */
const findInDatabase = (file: string, needles: string[]) => {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
      .pluck()
      .all() as string[];
    const hits: Array<{ table: string; column: string; needle: string; row: Record<string, unknown> }> = [];
    for (const table of tables) {
      for (const row of db.prepare(`SELECT * FROM "${table}"`).all() as Record<string, unknown>[]) {
        for (const [column, value] of Object.entries(row)) {
          const text =
            typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('latin1') : undefined;
          if (text === undefined) continue;
          for (const needle of needles) {
            if (text.toLowerCase().includes(needle.toLowerCase())) hits.push({ table, column, needle, row });
          }
        }
      }
    }
    return { tables, hits };
  } finally {
    db.close();
  }
};

describe('privacy: erase and export', () => {
  it('erases a customer written through every path; nothing of theirs remains but tombstone hashes', async () => {
    const { h, rx, clock } = await setup();
    const ada = await writeAda();
    await writeBob();
    expect(ada.anonProfile).not.toBe(ada.profileId);
    const pendingBefore = await h.rt.store.read.deliveriesOf(ada.profileId);
    expect(pendingBefore.map((d) => d.status)).toEqual(['pending']);
    expect(await h.rt.store.read.countTimers(ada.profileId)).toBeGreaterThan(0);

    // The export holds all of it.
    const exported = await admin('GET', `/v1/profiles/${ADA.userId}/export`);
    expect(exported.status).toBe(200);
    const x = exported.body;
    expect(x.profileId).toBe(ada.profileId);
    expect(x.mergedProfileIds).toEqual([ada.anonProfile]);
    expect(x.profile.traits).toMatchObject({ email: ADA.email, name: 'Ada', phone: ADA.phone });
    expect(x.identities).toEqual(
      expect.arrayContaining([
        { kind: 'userId', value: ADA.userId },
        { kind: 'anonymousId', value: ADA.anonymousId },
        { kind: 'anonymousId', value: ADA.legacyId },
        { kind: 'email', value: ADA.email.toLowerCase() },
        { kind: 'phone', value: '+442079460123' },
      ]),
    );
    expect(x.consent).toBeNull();
    expect(x.merges).toHaveLength(1);
    const names = x.events.map((e: { type: string; event?: string }) => e.event ?? e.type);
    expect(names).toEqual(
      expect.arrayContaining([
        'Home',
        'Product Viewed',
        'identify',
        'alias',
        'Decision Feedback',
        'Signed Up',
      ]),
    );
    expect(x.events[0].timestamp).toBe(at(T0 - 5000));
    const decided = x.decisions.map((d: { id: string; actionId: string | null }) => d.actionId);
    expect(decided).toEqual(expect.arrayContaining(['sms_welcome']));
    const placement = x.decisions.find((d: { id: string }) => d.id === ada.placementDecision);
    expect(placement.explanation.summary).toEqual(expect.any(String));
    expect(placement.outcomes).toEqual([expect.objectContaining({ kind: 'goal', value: 12 })]);
    expect(x.deliveries).toEqual([expect.objectContaining({ status: 'pending', actionId: 'sms_welcome' })]);
    expect(x.timers.length).toBeGreaterThan(0);
    expect(x.deadLetters).toEqual([expect.objectContaining({ code: 'PW_ERR_INGEST_INVALID' })]);

    // A profile read just before the erasure, as a decision in flight holds it.
    const stale = await h.rt.store.read.getProfile(ada.profileId);

    // Erase by email, written as the customer did.
    const erased = await admin('DELETE', `/v1/profiles/${encodeURIComponent(ADA.email)}`);
    expect(erased.status).toBe(200);
    expect(erased.body).toEqual({
      profileId: ada.profileId,
      erasedAt: at(T0),
      removed: expect.objectContaining({
        profiles: 2,
        identities: 5,
        merges: 1,
        deliveries: 1,
        deadLetters: 1,
        decisions: x.decisions.length,
        events: x.events.length,
        timers: x.timers.length,
        outcomes: expect.any(Number),
        tombstones: 7,
      }),
    });

    // Every table of the file: none of her identifiers, none of her profile ids.
    const { tables, hits } = findInDatabase(h.db, [...ADA_NEEDLES, ada.profileId, ada.anonProfile]);
    expect(tables).toEqual(expect.arrayContaining(['events', 'identities', 'tombstones', 'dead_letters']));
    // Not even the erase's audit entry: it names the profile id's tombstone (a keyed hash), and counts.
    expect(hits).toEqual([]);
    const log = await admin('GET', '/v1/admin/audit');
    expect(log.body.items[0]).toMatchObject({
      actor: 'admin-key',
      change: 'profile.erase',
      target: expect.stringMatching(/^tombstone:[0-9a-f]{64}$/),
      detail: { removed: erased.body.removed },
    });

    // Bob is untouched.
    expect((await admin('GET', '/v1/profiles/user-bob')).status).toBe(200);

    // Erased: 404 with its own code; unknown: 404.
    for (const id of [ADA.userId, ada.profileId, ada.anonProfile, ADA.email, `anonymousId:${ADA.legacyId}`]) {
      const again = await admin('DELETE', `/v1/profiles/${encodeURIComponent(id)}`);
      expect(again.status).toBe(404);
      expect(again.body.code).toBe('PW_ERR_PROFILE_ERASED');
    }
    expect((await admin('GET', `/v1/profiles/${ADA.userId}/export`)).body.code).toBe('PW_ERR_PROFILE_ERASED');
    expect((await admin('GET', `/v1/profiles/${ADA.userId}`)).status).toBe(404);
    const unknown = await admin('DELETE', '/v1/profiles/nobody-at-all');
    expect(unknown).toMatchObject({ status: 404, body: { code: 'PW_ERR_PROFILE_NOT_FOUND' } });
    expect((await admin('GET', '/v1/profiles/nobody-at-all/export')).status).toBe(404);

    // Late events are acknowledged as Segment would, counted, and not stored; no profile comes back.
    const eventsBefore = await h.rt.store.read.countEvents();
    const late = await send('/v1/track', { userId: ADA.userId, event: 'Product Viewed' });
    expect(late.statusCode).toBe(200);
    expect(late.json()).toMatchObject({ success: true, duplicate: false });
    const batch = await send('/v1/batch', {
      batch: [
        { type: 'identify', anonymousId: 'new-device', traits: { email: ADA.email.toUpperCase() } },
        { type: 'page', anonymousId: ADA.anonymousId, name: 'Home' },
      ],
    });
    expect(batch.json()).toMatchObject({ success: true, accepted: 2, rejected: 0 });
    expect(await h.rt.store.read.countEvents()).toBe(eventsBefore);
    for (const id of [ADA.userId, ADA.anonymousId, 'new-device'])
      expect(await h.rt.store.read.resolveProfileId(id)).toBeUndefined();
    const metrics = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('pathwise_ingest_events_total{source="web",outcome="erased"} 3');

    // A decision asked for her is "do nothing", and creates no profile.
    const decided2 = await send('/v1/decide', { userId: ADA.userId, placement: 'home' });
    expect(decided2.json()).toMatchObject({ decisionId: null, profileId: null, action: null, content: null });
    expect(await h.rt.store.read.resolveProfileId(ADA.userId)).toBeUndefined();

    // A decision that read her profile before the erasure is refused when it is logged: nothing comes back.
    await expect(
      h.rt.decisions.decideFor(stale!, { kind: 'placement', placement: 'home', context: {} }),
    ).rejects.toMatchObject({ code: 'PW_ERR_PROFILE_ERASED' });
    expect(await h.rt.store.read.getProfile(ada.profileId)).toBeUndefined();

    // Her pending sms and trigger timer are gone: nothing is sent when they would have come due.
    clock.advance(2 * HOUR);
    await h.rt.loop.runOnce();
    expect(rx.requests).toHaveLength(1);
    expect(await h.rt.store.read.countTimers()).toBe(0);

    // Still nothing of hers after all that, and nothing in the file's free pages once it is checkpointed.
    expect(findInDatabase(h.db, ADA_NEEDLES).hits).toEqual([]);
    await h.restart(() => {
      const bytes = readFileSync(h.db).toString('latin1').toLowerCase();
      for (const needle of [...ADA_NEEDLES, ada.anonProfile])
        expect(bytes.includes(needle.toLowerCase())).toBe(false);
    });
  });

  it('pathwise forget: prints the receipt, exit 0; unknown or erased ids: one line, exit 2', async () => {
    const { h } = await setup();
    await writeBob();
    const file = join(h.dir, 'pathwise.yaml');
    writeFileSync(
      file,
      stringify({ sources: [{ name: 'web', writeKey: WRITE_KEY }], admin: { key: ADMIN_KEY } }),
    );
    const run = (args: string[]) => runCli([...args, '--config', file, '--db', h.db]);
    const pid = await h.rt.store.read.resolveProfileId('user-bob');

    // Beside the running server, as an operator would run it.
    const ok = await run(['forget', 'user-bob']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const receipt = JSON.parse(ok.stdout);
    expect(receipt).toMatchObject({ profileId: pid, removed: { profiles: 1, identities: 2, events: 2 } });
    expect(Date.parse(receipt.erasedAt)).not.toBeNaN();

    for (const [id, code] of [
      ['user-bob', 'PW_ERR_PROFILE_ERASED'],
      ['nobody-at-all', 'PW_ERR_PROFILE_NOT_FOUND'],
    ] as const) {
      const r = await run(['forget', id]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`[${code}]`);
    }

    // The running server sees the other process's erasure: Bob's late events are dropped.
    expect((await send('/v1/track', { userId: 'user-bob', event: 'Product Viewed' })).statusCode).toBe(200);
    expect(await h.rt.store.read.resolveProfileId('user-bob')).toBeUndefined();
    expect((await admin('GET', '/v1/profiles/user-bob')).status).toBe(404);
  });
});
