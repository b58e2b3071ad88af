import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookChannel, verifySignature, type OutboundMessage } from '../../src/channels/index.js';
import { webhookChannelSchema } from '../../src/config/index.js';
import { PathwiseError } from '../../src/errors.js';
import { freePort } from '../helpers/net.js';

const SECRET = 'whsec_0123456789abcdef';
const NOW = Date.UTC(2026, 0, 15, 9, 30);

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
}
type Reply = { status: number; body?: string; delayMs?: number };

/** A real HTTP receiver on a free loopback port; `reply` decides each answer. */
const servers: Server[] = [];
const receiver = async (reply: (req: Received, n: number) => Reply = () => ({ status: 200 })) => {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      const out = reply(r, received.length);
      const answer = () => {
        res.writeHead(out.status, { 'content-type': 'application/json' });
        res.end(out.body ?? '');
      };
      if (out.delayMs === undefined) answer();
      else setTimeout(answer, out.delayMs).unref();
    });
  });
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/sms`;
  return { url, received };
};

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((done) => s.close(done));
  }
});

const channel = (url: string, over: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}) =>
  createWebhookChannel(webhookChannelSchema.parse({ url, secret: SECRET, ...over }), {
    env,
    now: () => NOW,
    name: 'sms',
  });

const message = (over: Partial<OutboundMessage> = {}): OutboundMessage => ({
  deliveryId: 'dec_1',
  idempotencyKey: 'idem_dec_1',
  decisionId: 'dec_1',
  attempt: 1,
  action: {
    id: 'sms-winback',
    channel: 'sms',
    content: {
      payload: {
        text: 'Hi {{ profile.traits.first_name | capitalize }}, {{ profile.computed.orders }} orders so far',
        code: 'WB-{{ decision.id }}',
        via: '{{ context.event }}',
        priority: 2,
      },
    },
  },
  profile: {
    id: 'p_1',
    traits: { first_name: 'ada', phone: '+15550100', email: 'ada@example.com', push_token: 'tok_1' },
    computed: { orders: 3 },
    segments: ['lapsed'],
  },
  context: { event: 'Cart Abandoned' },
  ...over,
});

describe('webhook channel', () => {
  it('POSTs signed JSON with the delivery headers, and the receiver can verify it', async () => {
    const { url, received } = await receiver(() => ({ status: 202, body: '{"id":"SM123"}' }));
    const ch = channel(url, { headers: { authorization: 'Bearer k', 'x-pathwise-signature': 'forged' } });

    await expect(ch.send(message())).resolves.toEqual({ status: 'sent', providerId: 'SM123' });

    expect(received).toHaveLength(1);
    const [{ headers, raw }] = received as [Received];
    expect(headers['content-type']).toBe('application/json');
    expect(headers['idempotency-key']).toBe('idem_dec_1');
    expect(headers['x-pathwise-delivery']).toBe('dec_1');
    expect(headers['x-pathwise-timestamp']).toBe(String(NOW / 1000));
    expect(headers.authorization).toBe('Bearer k');
    const sig = headers['x-pathwise-signature'] as string;
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(
      verifySignature(SECRET, headers['x-pathwise-timestamp'] as string, raw, sig, 300, NOW + 5_000),
    ).toBe(true);
    expect(verifySignature('another-secret-0000', NOW / 1000, raw, sig, 300, NOW)).toBe(false);

    expect(JSON.parse(raw)).toEqual({
      deliveryId: 'dec_1',
      decisionId: 'dec_1',
      actionId: 'sms-winback',
      channel: 'sms',
      profileId: 'p_1',
      to: { phone: '+15550100', email: 'ada@example.com', pushToken: 'tok_1' },
      content: { text: 'Hi Ada, 3 orders so far', code: 'WB-dec_1', via: 'Cart Abandoned', priority: 2 },
    });
    await ch.close();
  });

  it('sends { body } when the action has no payload, and only the addresses the profile has', async () => {
    const { url, received } = await receiver();
    const m = message();
    m.action.content = { body: 'Your code: {{ decision.id | upcase }}' };
    m.profile.traits = { phone: '+15550100', email: 42 };
    await expect(channel(url).send(m)).resolves.toEqual({ status: 'sent' });
    const body = JSON.parse((received[0] as Received).raw) as Record<string, unknown>;
    expect(body.to).toEqual({ phone: '+15550100' });
    expect(body.content).toEqual({ body: 'Your code: DEC_1' });
  });

  it('500 then 200: retryable first, sent second, same idempotency key, one message at a deduplicating receiver', async () => {
    const stored = new Map<string, string>();
    const { url, received } = await receiver((req, n) => {
      const key = req.headers['idempotency-key'] as string;
      if (!stored.has(key)) stored.set(key, req.raw);
      // The first attempt is stored but answered 500 (a crash after commit): the retry must not duplicate it.
      return n === 1 ? { status: 500, body: 'upstream exploded' } : { status: 200, body: `{"id":"${key}"}` };
    });
    const ch = channel(url);

    const first = await ch.send(message());
    expect(first).toMatchObject({ status: 'failed', retryable: true });
    expect(first.status === 'failed' && first.reason).toContain('HTTP 500');
    expect(first.status === 'failed' && first.reason).toContain('upstream exploded');
    await expect(ch.send(message({ attempt: 2 }))).resolves.toEqual({
      status: 'sent',
      providerId: 'idem_dec_1',
    });

    expect(received.map((r) => r.headers['idempotency-key'])).toEqual(['idem_dec_1', 'idem_dec_1']);
    expect(stored.size).toBe(1);
  });

  it.each([408, 425, 429, 503])('%i is retryable', async (status) => {
    const { url } = await receiver(() => ({ status }));
    await expect(channel(url).send(message())).resolves.toMatchObject({ status: 'failed', retryable: true });
  });

  it('400 is a non-retryable failure that quotes the status and the body', async () => {
    const { url } = await receiver(() => ({ status: 400, body: '{"error":  "invalid phone\n number"}' }));
    const result = await channel(url).send(message());
    expect(result).toEqual({
      status: 'failed',
      retryable: false,
      reason: 'HTTP 400 Bad Request: {"error": "invalid phone number"}',
    });
  });

  it('a receiver slower than the timeout is a retryable timeout', async () => {
    const { url } = await receiver(() => ({ status: 200, delayMs: 2_000 }));
    const started = Date.now();
    const result = await channel(url, { timeout: '200ms' }).send(message());
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(result).toEqual({
      status: 'failed',
      retryable: true,
      reason: 'timeout: no complete response within 200 ms',
    });
  });

  it('a refused connection is retryable', async () => {
    const port = await freePort();
    const result = await channel(`http://127.0.0.1:${port}/hook`).send(message());
    expect(result).toMatchObject({ status: 'failed', retryable: true });
    expect(result.status === 'failed' && result.reason).toContain('ECONNREFUSED');
  });

  it('a template error is a non-retryable failure and no request is made', async () => {
    const { url, received } = await receiver();
    const m = message();
    m.action.content = { payload: { text: 'Hi {{ profile.traits.nickname }}' } };
    const result = await channel(url).send(m);
    expect(result).toEqual({
      status: 'failed',
      retryable: false,
      reason: 'template: payload.text: undefined variable: profile.traits.nickname, line:1, col:7',
    });
    expect(received).toHaveLength(0);
  });

  it('does not follow redirects (a POST would become a GET without the signed body)', async () => {
    const { url } = await receiver(() => ({ status: 301 }));
    await expect(channel(url).send(message())).resolves.toMatchObject({ status: 'failed', retryable: false });
  });

  it('reads ${VAR} in the secret and headers from the env, and names a missing variable', async () => {
    const { url, received } = await receiver();
    // The schema checks the length of the `${…}` text itself, so a short variable name is refused there.
    const env = { SMS_WEBHOOK_SECRET: SECRET, SMS_TOKEN: 't0k' };
    const ch = channel(
      url,
      { secret: '${SMS_WEBHOOK_SECRET}', headers: { authorization: 'Bearer ${SMS_TOKEN}' } },
      env,
    );
    await ch.send(message());
    const { headers, raw } = received[0] as Received;
    expect(headers.authorization).toBe('Bearer t0k');
    expect(
      verifySignature(
        SECRET,
        headers['x-pathwise-timestamp'] as string,
        raw,
        headers['x-pathwise-signature'] as string,
        60,
        NOW,
      ),
    ).toBe(true);

    const missing = (() => {
      try {
        channel(url, { secret: '${PUSH_WEBHOOK_SECRET}' }, { SMS_WEBHOOK_SECRET: SECRET });
      } catch (e) {
        return e;
      }
    })();
    expect(missing).toBeInstanceOf(PathwiseError);
    expect(missing).toMatchObject({ code: 'PW_ERR_CONFIG_INVALID', field: 'channels.sms.secret' });
    expect((missing as Error).message).toContain('PUSH_WEBHOOK_SECRET');
  });

  it('refuses an invalid configured header when created', () => {
    expect(() => channel('http://127.0.0.1:9/x', { headers: { 'bad header': 'v' } })).toThrow(
      'channels.sms.headers.bad header: not a valid HTTP header',
    );
  });

  it('after close, send fails retryably without a request', async () => {
    const { url, received } = await receiver();
    const ch = channel(url);
    await ch.close();
    await expect(ch.send(message())).resolves.toEqual({
      status: 'failed',
      retryable: true,
      reason: 'channel closed',
    });
    expect(received).toHaveLength(0);
  });
});
