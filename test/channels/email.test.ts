import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelAdapter, OutboundMessage } from '../../src/channels/channel.js';
import { createEmailChannel, emailLinkSecret, verifyToken } from '../../src/channels/email/index.js';
import { emailChannelSchema } from '../../src/config/index.js';
import { freePort } from '../helpers/net.js';
import { startSmtp, type TestSmtp } from './email-smtp.js';

const templatesDir = fileURLToPath(new URL('./fixtures/templates/', import.meta.url));
const LINK_SECRET = 'test-link-secret-0123456789';
const PUBLIC_URL = 'https://pw.example/';
const NOW = Date.UTC(2026, 2, 1, 9, 30);

const configFor = (port: number) =>
  emailChannelSchema.parse({
    smtp: { host: '127.0.0.1', port, user: '${SMTP_USER}', pass: '${SMTP_PASS}' },
    from: 'Shop <news@shop.example>',
    publicUrl: PUBLIC_URL,
    linkSecret: '${PATHWISE_LINK_SECRET}',
  });
const env = { SMTP_USER: 'mailer', SMTP_PASS: 'secret', PATHWISE_LINK_SECRET: LINK_SECRET };

const message = (over: Partial<OutboundMessage> = {}): OutboundMessage => ({
  deliveryId: 'dlv_1',
  idempotencyKey: 'dec_1',
  decisionId: 'dec_1',
  attempt: 1,
  action: {
    id: 'welcome',
    channel: 'email',
    content: { template: 'welcome', subject: 'Welcome, {{ profile.traits.first_name }}' },
  },
  profile: {
    id: 'prof_1',
    traits: { email: 'ada@example.com', first_name: 'Ada <3' },
    computed: { orders: 3 },
    segments: ['new', 'eu'],
  },
  context: { event: 'Signed Up' },
  ...over,
});

const header = (mail: { headerLines: ReadonlyArray<{ key: string; line: string }> }, key: string) =>
  mail.headerLines
    .find((h) => h.key === key)
    ?.line.slice(key.length + 1)
    .replace(/\r?\n\s+/g, ' ')
    .trim();

const hrefs = (html: string): string[] =>
  [...html.matchAll(/<a\b[^>]*\bhref="([^"]*)"/g)].map((m) => m[1] ?? '');

describe('email channel over SMTP', () => {
  let smtp: TestSmtp;
  let channel: ChannelAdapter;

  beforeAll(async () => {
    smtp = await startSmtp();
    channel = createEmailChannel(configFor(smtp.port), { env, templatesDir, now: () => NOW });
  });
  afterAll(async () => {
    await channel.close();
    await smtp.close();
  });
  afterEach(() => {
    smtp.received.length = 0;
    smtp.rejectRcpt = undefined;
  });

  it('renders a Liquid template with traits into the HTML and the text part', async () => {
    const result = await channel.send(message());
    expect(result).toEqual({ status: 'sent', providerId: '<dec_1@pathwise>' });
    const [got] = smtp.received;
    // ${SMTP_USER} and ${SMTP_PASS} were read from the environment.
    expect(smtp.logins).toContain('mailer');
    expect(got?.envelope).toEqual({ from: 'news@shop.example', to: ['ada@example.com'] });
    const mail = got!.mail;
    // Traits are HTML-escaped in the HTML part, as written in the text part.
    expect(mail.html).toContain('<h1>Welcome, Ada &lt;3!</h1>');
    expect(mail.html).toContain('You joined 2 segments. Decision dec_1.');
    // The text part is welcome.txt.liquid, not derived from the HTML.
    expect(mail.text).toContain('Welcome, Ada <3!\nStart shopping: https://shop.example/start\n');
    expect(mail.text).toContain(`Unsubscribe: ${PUBLIC_URL}v1/unsubscribe/`);
  });

  it('sets subject, From, To, one-click unsubscribe headers, the delivery id and a stable Message-ID', async () => {
    await channel.send(message());
    await channel.send(message({ attempt: 2 }));
    const [first, second] = smtp.received.map((r) => r.mail);
    expect(first?.subject).toBe('Welcome, Ada <3');
    expect(first?.from?.value).toEqual([{ name: 'Shop', address: 'news@shop.example' }]);
    expect(first?.from?.text).toBe('"Shop" <news@shop.example>');
    expect(Array.isArray(first?.to) ? undefined : first?.to?.value[0]?.address).toBe('ada@example.com');
    expect(first?.messageId).toBe('<dec_1@pathwise>');
    // A resend of the same delivery is recognisable as the same message.
    expect(second?.messageId).toBe(first?.messageId);
    expect(first?.date?.getTime()).toBe(NOW);
    expect(header(first!, 'x-pathwise-delivery')).toBe('dlv_1');
    expect(header(first!, 'list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    const unsubscribe = /^<https:\/\/pw\.example\/v1\/unsubscribe\/([^>]+)>$/.exec(
      header(first!, 'list-unsubscribe') ?? '',
    );
    expect(unsubscribe).not.toBeNull();
    expect(verifyToken(LINK_SECRET, unsubscribe![1]!)).toEqual({
      decisionId: 'dec_1',
      profileId: 'prof_1',
      kind: 'unsubscribe',
    });
  });

  it('rewrites links to signed click URLs and appends an open pixel', async () => {
    await channel.send(message());
    const html = smtp.received[0]!.mail.html as string;
    const links = hrefs(html);
    const click = links.find((h) => h.includes('/v1/t/c/'));
    const m = /^https:\/\/pw\.example\/v1\/t\/c\/([A-Za-z0-9_.-]+)\?u=([^"&]+)$/.exec(click ?? '');
    expect(m).not.toBeNull();
    const [, token, u] = m!;
    const target = decodeURIComponent(u!);
    // The HTML's &amp; is the URL's &.
    expect(target).toBe('https://shop.example/start?ref=welcome&lang=en');
    expect(verifyToken(LINK_SECRET, token!, target)).toEqual({
      decisionId: 'dec_1',
      profileId: 'prof_1',
      kind: 'click',
      url: target,
    });
    // Not an open redirect: the token is worthless for another target, and a tampered token fails.
    expect(verifyToken(LINK_SECRET, token!, 'https://evil.example/')).toBeUndefined();
    expect(verifyToken(LINK_SECRET, token!)).toBeUndefined();
    const tampered = `${token!.slice(0, 5)}${token![5] === 'A' ? 'B' : 'A'}${token!.slice(6)}`;
    expect(verifyToken(LINK_SECRET, tampered, target)).toBeUndefined();
    expect(verifyToken('another-secret-0123456789', token!, target)).toBeUndefined();
    // mailto: and the unsubscribe link are left alone.
    expect(links).toContain('mailto:help@shop.example');
    expect(links.some((h) => h.startsWith('https://pw.example/v1/unsubscribe/'))).toBe(true);
    expect(links.filter((h) => h.includes('/v1/t/c/'))).toHaveLength(1);

    const pixel = /<img src="https:\/\/pw\.example\/v1\/t\/o\/([A-Za-z0-9_.-]+)\.gif"[^>]*>\s*<\/body>/.exec(
      html,
    );
    expect(pixel).not.toBeNull();
    expect(verifyToken(LINK_SECRET, pixel![1]!)).toMatchObject({ kind: 'open', profileId: 'prof_1' });
  });

  it('compiles an MJML template to responsive HTML after Liquid', async () => {
    const content = { template: 'promo', subject: 'Spring sale' };
    const result = await channel.send(message({ action: { id: 'promo', channel: 'email', content } }));
    expect(result.status).toBe('sent');
    const mail = smtp.received[0]!.mail;
    const html = mail.html as string;
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).not.toContain('<mj-');
    expect(html).toContain('<title>Spring sale</title>');
    // MJML's responsive layout: a media query and the column class.
    expect(html).toMatch(/@media only screen and \(min-width:480px\)/);
    expect(html).toContain('mj-column-per-100');
    expect(html).toContain('Hello Ada &lt;3');
    expect(html).toContain('Thanks for 3 orders.');
    // The button's link is tracked; MJML's font stylesheet links are not.
    expect(hrefs(html).some((h) => h.includes('u=https%3A%2F%2Fshop.example%2Fsale'))).toBe(true);
    expect(html).not.toMatch(/<link[^>]*\/v1\/t\/c\//);
    // No .txt.liquid: the text part is derived from the HTML, without markup or styles.
    expect(mail.text).toContain('Hello Ada <3');
    expect(mail.text).toContain('See the sale (https://shop.example/sale)');
    expect(mail.text).not.toMatch(/<[a-z/!]|@media|Spring sale/i);
  });

  it('sends inline subject and body', async () => {
    const content = { subject: 'Hi {{ profile.traits.first_name }}', body: 'Hello {{ profile.id }}\n\nBye' };
    await channel.send(message({ action: { id: 'inline', channel: 'email', content } }));
    const mail = smtp.received[0]!.mail;
    expect(mail.text?.trim()).toBe('Hello prof_1\n\nBye');
    expect(mail.html).toContain('<p>Hello prof_1</p>');
  });

  it('refuses RCPT 550 as a permanent failure and 451 as a retryable one', async () => {
    smtp.rejectRcpt = 550;
    const permanent = await channel.send(message());
    expect(permanent).toMatchObject({ status: 'failed', retryable: false });
    expect(permanent.status === 'failed' && permanent.reason).toMatch(/^smtp 550: .*mailbox unavailable/);
    smtp.rejectRcpt = 451;
    const transient = await channel.send(message());
    expect(transient).toMatchObject({ status: 'failed', retryable: true });
    expect(transient.status === 'failed' && transient.reason).toMatch(/^smtp 451/);
    expect(smtp.received).toHaveLength(0);
  });

  it('fails without connecting when the profile has no email trait', async () => {
    const before = smtp.connections;
    const fresh = createEmailChannel(configFor(smtp.port), { env, templatesDir, now: () => NOW });
    const result = await fresh.send(
      message({ profile: { id: 'p', traits: {}, computed: {}, segments: [] } }),
    );
    expect(result).toEqual({ status: 'failed', retryable: false, reason: 'profile has no email trait' });
    const list = await fresh.send(
      message({
        profile: { id: 'p', traits: { email: 'a@x.example, b@y.example' }, computed: {}, segments: [] },
      }),
    );
    expect(list).toMatchObject({ status: 'failed', retryable: false });
    await fresh.close();
    expect(smtp.connections).toBe(before);
  });

  it('reports render errors as non-retryable template failures', async () => {
    const missingVar = await channel.send(
      message({ action: { id: 'x', channel: 'email', content: { subject: '{{ nope }}', body: 'x' } } }),
    );
    expect(missingVar).toMatchObject({ status: 'failed', retryable: false });
    expect(missingVar.status === 'failed' && missingVar.reason).toMatch(/^template: .*nope/);
    const missingFile = await channel.send(
      message({ action: { id: 'x', channel: 'email', content: { subject: 's', template: 'absent' } } }),
    );
    expect(missingFile).toMatchObject({ status: 'failed', retryable: false });
    expect(missingFile.status === 'failed' && missingFile.reason).toMatch(
      /^template: no absent\.liquid or absent\.mjml/,
    );
    const badMjml = await channel.send(
      message({ action: { id: 'x', channel: 'email', content: { subject: 's', template: 'misplaced' } } }),
    );
    expect(badMjml.status === 'failed' && badMjml.reason).toMatch(/^template: misplaced\.mjml: mjml line 3/);
    const noSubject = await channel.send(
      message({ action: { id: 'x', channel: 'email', content: { template: 'welcome' } } }),
    );
    expect(noSubject).toEqual({
      status: 'failed',
      retryable: false,
      reason: 'template: content.subject is required for email',
    });
    expect(smtp.received).toHaveLength(0);
  });
});

describe('email channel without a server', () => {
  it('reports a refused connection as retryable', async () => {
    const port = await freePort();
    const channel = createEmailChannel(configFor(port), { env, templatesDir, now: () => NOW });
    const result = await channel.send(message());
    await channel.close();
    expect(result).toMatchObject({ status: 'failed', retryable: true });
    expect(result.status === 'failed' && result.reason).toMatch(/ECONNREFUSED|ECONNECTION|ESOCKET/);
  });

  it('refuses to start when a ${VAR} is not set', () => {
    expect(() => createEmailChannel(configFor(25), { env: {}, templatesDir, now: () => NOW })).toThrow(
      /channels\.email\.linkSecret: environment variable PATHWISE_LINK_SECRET is not set/,
    );
    expect(emailLinkSecret(configFor(25), env)).toBe(LINK_SECRET);
  });
});
