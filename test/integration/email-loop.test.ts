import { afterEach, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { fixedClock, NOTHING } from '../../src/domain/index.js';
import { openRuntime, serverFor } from '../../src/runtime.js';
import { pino } from 'pino';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/index.js';
import { basic, bearer } from '../helpers/harness.js';
import { startSmtp, type TestSmtp } from '../channels/email-smtp.js';

const TEMPLATES = fileURLToPath(new URL('../channels/fixtures/templates', import.meta.url));
const T0 = Date.parse('2026-11-02T12:00:00Z');

let smtp: TestSmtp | undefined;
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  await smtp?.close();
  cleanup = undefined;
  smtp = undefined;
});

/** A workspace whose welcome email goes to a real SMTP server, with its config file beside the templates. */
const start = async () => {
  smtp = await startSmtp();
  const dir = mkdtempSync(join(tmpdir(), 'pathwise-email-'));
  const file = join(dir, 'pathwise.yaml');
  const doc = {
    sources: [{ name: 'web', writeKey: 'wk_test_web_key' }],
    admin: { key: 'admin_test_key' },
    goal: {
      event: 'Order Completed',
      engagement: [
        { name: 'open', event: 'Email Opened', weight: 0.1 },
        { name: 'click', event: 'Email Link Clicked', weight: 0.3 },
      ],
    },
    holdout: { share: 0 },
    exploration: { min: 0, max: 0 },
    policy: { consent: { require: [{ channel: 'email', purpose: 'marketing' }] }, doNotRepeat: '0s' },
    channels: {
      email: {
        smtp: { host: '127.0.0.1', port: smtp.port },
        from: 'Shop <news@shop.example>',
        templates: TEMPLATES,
        publicUrl: 'http://pathwise.test',
        linkSecret: 'a-link-secret-for-tests',
      },
    },
    actions: [
      {
        id: 'welcome',
        channel: 'email',
        status: 'approved',
        trigger: { events: ['Signed Up'] },
        content: { template: 'welcome', subject: 'Welcome, {{ profile.traits.first_name }}' },
      },
    ],
  };
  writeFileSync(file, stringify(doc));
  const parsed = parseConfig(stringify(doc));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  const clock = fixedClock(T0);
  const rt = await openRuntime({
    config: parsed.config,
    db: join(dir, 'db'),
    env: {},
    logger: pino({ level: 'silent' }),
    configFile: file,
    clock,
  });
  const app = serverFor(rt);
  cleanup = async () => {
    await app.close();
    await rt.close();
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 40; i++) rt.learner.model.update('welcome', { idx: [], val: [] }, 1);
  for (let i = 0; i < 40; i++) rt.learner.model.update(NOTHING, { idx: [], val: [] }, 0);
  const post = (url: string, payload: object) =>
    app.inject({ method: 'POST', url, payload, headers: { authorization: basic() } });
  return { rt, app, clock, post };
};

describe('email end to end', () => {
  it('sends the templated email; the pixel and the click come back as engagement; unsubscribe withdraws consent', async () => {
    const { rt, app, post } = await start();
    await post('/v1/identify', {
      userId: 'ada',
      traits: { email: 'ada@example.com', first_name: 'Ada', consent: { marketing: true } },
    });
    await post('/v1/track', { userId: 'ada', event: 'Signed Up', timestamp: new Date(T0).toISOString() });
    await rt.loop.runOnce();
    expect(smtp!.received).toHaveLength(1);
    const { mail, envelope } = smtp!.received[0]!;
    expect(envelope.to).toEqual(['ada@example.com']);
    expect(mail.subject).toBe('Welcome, Ada');
    const html = String(mail.html);
    const pixel = /http:\/\/pathwise\.test(\/v1\/t\/o\/[^"]+)"/.exec(html)?.[1];
    const click = /href="http:\/\/pathwise\.test(\/v1\/t\/c\/[^"]+)"/.exec(html)?.[1];
    const unsubscribe = /href="http:\/\/pathwise\.test(\/v1\/unsubscribe\/[^"]+)"/.exec(html)?.[1];
    // mailparser gathers List-* headers under `list`: List-Unsubscribe names the same link.
    expect(JSON.stringify(mail.headers.get('list'))).toContain(String(unsubscribe));
    expect(pixel && click && unsubscribe).toBeTruthy();

    const opened = await app.inject({ method: 'GET', url: pixel! });
    expect(opened.statusCode).toBe(200);
    expect(opened.headers['content-type']).toBe('image/gif');
    const clicked = await app.inject({ method: 'GET', url: click!.replaceAll('&amp;', '&') });
    expect(clicked.statusCode).toBe(302);
    expect(clicked.headers.location).toMatch(/^https?:\/\//);
    // A tampered link changes nothing and redirects nowhere.
    expect((await app.inject({ method: 'GET', url: `${click!.replaceAll('&amp;', '&')}x` })).statusCode).toBe(
      400,
    );

    const pid = (await rt.store.read.resolveProfileId('userId:ada')) as string;
    const [delivery] = await rt.store.read.deliveriesOf(pid);
    const decision = await rt.store.read.getDecision(delivery!.decisionId);
    expect(decision?.outcomes.map((o) => o.kind).sort()).toEqual(['engagement', 'engagement']);

    // RFC 8058 one-click unsubscribe, as a mail client sends it.
    const unsub = await app.inject({
      method: 'POST',
      url: unsubscribe!,
      payload: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(unsub.statusCode).toBe(200);
    const profile = await app.inject({
      method: 'GET',
      url: '/v1/profiles/ada',
      headers: { authorization: bearer() },
    });
    expect(profile.json().traits.consent.marketing.email).toBe(false);
    expect(profile.json().traits.consent.marketing.sms).toBe(true);

    // The next welcome is stopped by the consent policy.
    await post('/v1/track', { userId: 'ada', event: 'Signed Up', timestamp: new Date(T0).toISOString() });
    await rt.loop.runOnce();
    expect(smtp!.received).toHaveLength(1);
  });
});
