import { seededRng } from '../../src/learn/index.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { bundleCli, startChildServer, type ChildServer } from '../helpers/child-server.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

/**
 * Effectively-once delivery under kill -9: a real `pathwise serve` process ingests `Signed Up` events (each
 * for a new customer, each triggering one sms through a webhook provider that honours idempotency keys) and
 * is killed with SIGKILL at a random moment, many times: before the decide timer fired, between the decision
 * and the send, during the send, between the provider's acceptance and the `sent` mark, or mid-ingest. After
 * a last restart every customer must have had exactly one decision and one delivery, and the provider must
 * have delivered exactly one message per delivery: none lost, none twice.
 */
const KEY = 'wk_crash_delivery_key';
const SECRET = 'a-webhook-secret-for-crash-tests';
/**
 * Kill cycles: up to CYCLES, stopping early once BUDGET_MS went by (a start takes 1–4 s on a busy 2-core
 * machine), but never fewer than MIN_CYCLES.
 */
const CYCLES = Number(process.env.CRASH_DELIVERY_CYCLES ?? 30);
const MIN_CYCLES = Math.min(CYCLES, 12);
const BUDGET_MS = Number(process.env.CRASH_DELIVERY_BUDGET_MS ?? 70_000);
const SEED = Number(process.env.CRASH_DELIVERY_SEED ?? Date.now() % 2 ** 31);

/** Batch sizes, kill moments and provider delays come from the seed printed in the summary. */
const seeded = (seed: number): (() => number) => {
  const rng = seededRng(seed);
  return () => rng.next();
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The provider's edge: forwards each complete request to the receiver (which then has accepted the message),
 * and answers only after a random delay. That delay is the window where the provider has the message but
 * Pathwise has not heard back: a kill there must lead to a re-send with the same key, not a lost or double
 * message. `accepted` counts the requests per idempotency key as they arrive (for the kill statistics).
 */
const startDelayingProvider = async (rx: Receiver, maxDelayMs: number, random: () => number) => {
  const accepted = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    // A sender killed mid-request never gets here: the provider ignores an incomplete request.
    req.on('end', () => {
      const key = req.headers['idempotency-key'];
      if (typeof key === 'string') accepted.set(key, (accepted.get(key) ?? 0) + 1);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers))
        if (typeof v === 'string' && k !== 'host' && k !== 'connection' && k !== 'content-length')
          headers[k] = v;
      void (async () => {
        try {
          const upstream = await fetch(rx.url(req.url ?? '/'), {
            method: 'POST',
            headers,
            body: Buffer.concat(chunks),
          });
          const body = await upstream.text();
          await sleep(random() * maxDelayMs);
          res.writeHead(upstream.status, { 'content-type': 'application/json' });
          res.end(body);
        } catch {
          res.destroy();
        }
      })();
    });
    res.on('error', () => undefined);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    accepted,
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
};

interface TrackEvent {
  type: 'track';
  event: string;
  userId: string;
  messageId: string;
  timestamp: string;
  context?: { traits: { phone: string } };
}

interface DeliveryRow {
  id: string;
  decision_id: string;
  profile_id: string;
  action_id: string;
  idempotency_key: string;
  status: string;
  attempts: number;
}

let dir: string | undefined;
let rx: Receiver | undefined;
let provider: Awaited<ReturnType<typeof startDelayingProvider>> | undefined;
let server: ChildServer | undefined;
afterEach(async () => {
  await server?.kill();
  await provider?.close();
  await rx?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
  rx = undefined;
  provider = undefined;
  server = undefined;
});

describe('effectively-once delivery under SIGKILL', () => {
  it('after kill -9 at random points and a restart, every message is delivered once', async () => {
    const random = seeded(SEED);
    dir = mkdtempSync(join(tmpdir(), 'pathwise-crash-delivery-'));
    const node = await bundleCli(dir);
    rx = await startReceiver();
    provider = await startDelayingProvider(rx, 120, random);
    const config = join(dir, 'pathwise.yaml');
    const db = join(dir, 'crash.db');
    const action = (id: string, text: string) => ({
      id,
      channel: 'sms',
      status: 'approved',
      trigger: { events: ['Signed Up'] },
      // An untrained model rates every option alike, and a tie leaves the customer alone: the weight makes
      // sending worth more than doing nothing, so every decision chooses a message.
      weight: 3,
      responseWindow: '1h',
      content: { payload: { text } },
    });
    // JSON is YAML.
    writeFileSync(
      config,
      JSON.stringify({
        sources: [{ name: 'web', writeKey: KEY }],
        goal: { event: 'Order Completed' },
        holdout: { share: 0 },
        exploration: { min: 0, max: 0 },
        policy: { doNotRepeat: '0s' },
        channels: {
          sms: { url: provider.url('/sms'), secret: SECRET, retry: { maxAttempts: 20, backoff: '1s' } },
        },
        actions: [action('sms_welcome', 'Welcome!'), action('sms_tip', 'A tip for your first order')],
      }),
    );
    const auth = `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`;
    const post = async (base: string, batch: readonly TrackEvent[]): Promise<boolean> => {
      try {
        const res = await fetch(`${base}/v1/batch`, {
          method: 'POST',
          headers: { authorization: auth, 'content-type': 'application/json' },
          body: JSON.stringify({ batch }),
        });
        await res.arrayBuffer();
        return res.status === 200;
      } catch {
        return false; // killed: the batch may or may not have been stored
      }
    };

    const users: string[] = [];
    const acked = new Set<string>();
    /** Events not acknowledged yet: sent again (same messageId, as Segment clients do) until they are. */
    let unacked: TrackEvent[] = [];
    let resendsDue = 0;
    /** What each killed process logged (warn and above): error lines are shown with the summary. */
    const logs: string[] = [];
    let seenAtLastKill = new Map<string, number>();
    const kills = { beforeAck: 0, beforeDecision: 0, beforeSend: 0, beforeSentMark: 0 };
    const started = Date.now();

    let cycles = 0;
    for (; cycles < CYCLES && (cycles < MIN_CYCLES || Date.now() - started < BUDGET_MS); cycles++) {
      const cycle = cycles;
      server = await startChildServer({ node, config, db });
      const fresh = Array.from({ length: 2 + Math.floor(random() * 3) }, (_, i): TrackEvent => {
        const userId = `c${cycle}-u${i}`;
        users.push(userId);
        return {
          type: 'track',
          event: 'Signed Up',
          userId,
          messageId: `signup-${userId}`,
          timestamp: new Date().toISOString(),
          // The sms channel needs a phone number to reach the customer.
          context: { traits: { phone: '+44 20 7946 0000' } },
        };
      });
      const batch = [...unacked, ...fresh];
      let sending: Promise<boolean>;
      if (random() < 0.2) {
        // Killed while the batch is on its way in (or just stored, not yet answered).
        sending = post(server.base, batch);
        await sleep(random() * 40);
      } else {
        sending = Promise.resolve(await post(server.base, batch));
        // 0–400 ms after the acknowledgement: the loop ticks every 200 ms, so this lands before the timer
        // fired, between the decision and the send, during the send or before the sent mark.
        await sleep(random() * 400);
      }
      await server.kill();
      logs.push(server.stderr());
      const ok = await sending;
      if (ok) for (const e of batch) acked.add(e.userId);
      unacked = ok ? [] : batch;

      // Where did the kill land? (statistics; the assertions come at the end) A delivery still pending whose
      // key the provider already accepted must be sent again by the next process, under the same key.
      await sleep(20); // let the provider's side take in what the killed process had already written
      const probe = new Sqlite(db, { readonly: true });
      try {
        const pending = probe
          .prepare("SELECT idempotency_key AS k FROM deliveries WHERE status = 'pending'")
          .all() as { k: string }[];
        const decide = probe.prepare("SELECT COUNT(*) AS n FROM timers WHERE kind = 'decide'").get() as {
          n: number;
        };
        // Sent by the process just killed (a request arrived since the last kill), not marked sent.
        const acceptedNotMarked = pending.filter(
          (p) => (provider!.accepted.get(p.k) ?? 0) > (seenAtLastKill.get(p.k) ?? 0),
        ).length;
        seenAtLastKill = new Map(provider.accepted);
        resendsDue += acceptedNotMarked;
        if (!ok) kills.beforeAck++;
        else if (acceptedNotMarked > 0) kills.beforeSentMark++;
        else if (pending.length > 0) kills.beforeSend++;
        else if (decide.n > 0) kills.beforeDecision++;
      } finally {
        probe.close();
      }
    }
    const cycleMs = Date.now() - started;

    // The last start: it must finish every delivery the kills interrupted.
    const lastStart = Date.now();
    server = await startChildServer({ node, config, db });
    if (unacked.length > 0) {
      expect(await post(server.base, unacked)).toBe(true);
      for (const e of unacked) acked.add(e.userId);
    }
    const probe = new Sqlite(db, { readonly: true });
    try {
      const settled = () => {
        const pending = probe
          .prepare("SELECT COUNT(*) AS n FROM deliveries WHERE status = 'pending'")
          .get() as {
          n: number;
        };
        const decide = probe.prepare("SELECT COUNT(*) AS n FROM timers WHERE kind = 'decide'").get() as {
          n: number;
        };
        return pending.n === 0 && decide.n === 0;
      };
      const deadline = Date.now() + 45_000;
      while (!settled() && Date.now() < deadline) await sleep(100);
      expect(settled(), `not settled after 45 s; server stderr:\n${server.stderr().slice(-4000)}`).toBe(true);
      const settleMs = Date.now() - lastStart;

      // (1) Every acknowledged customer: exactly one decision, with an action, and one delivery.
      expect(acked.size).toBe(users.length);
      const profileOf = probe.prepare(
        "SELECT profile_id AS p FROM identities WHERE kind = 'userId' AND value = ?",
      );
      const decisionsOf = probe.prepare('SELECT id, action_id FROM decisions WHERE profile_id = ?');
      const deliveriesOf = probe.prepare('SELECT * FROM deliveries WHERE profile_id = ?');
      const wrong: string[] = [];
      for (const userId of acked) {
        const row = profileOf.get(userId) as { p: string } | undefined;
        if (row === undefined) {
          wrong.push(`${userId}: no profile`);
          continue;
        }
        const decisions = decisionsOf.all(row.p) as { id: string; action_id: string | null }[];
        const deliveries = deliveriesOf.all(row.p) as DeliveryRow[];
        if (decisions.length !== 1 || decisions[0]!.action_id === null || deliveries.length !== 1)
          wrong.push(
            `${userId}: decisions ${JSON.stringify(decisions)}, deliveries ${JSON.stringify(deliveries)}`,
          );
        else if (deliveries[0]!.decision_id !== decisions[0]!.id)
          wrong.push(`${userId}: delivery ${deliveries[0]!.id} is not for decision ${decisions[0]!.id}`);
      }
      expect(wrong).toEqual([]);

      // (2) Every delivery went out.
      const all = probe.prepare('SELECT * FROM deliveries ORDER BY seq').all() as DeliveryRow[];
      expect(all).toHaveLength(users.length);
      expect(all.filter((d) => d.status !== 'sent')).toEqual([]);

      // (3) The provider delivered exactly one message per delivery, under the delivery's key: none lost.
      const keys = all.map((d) => d.idempotency_key).sort();
      expect(new Set(keys).size).toBe(keys.length);
      expect([...rx.delivered.keys()].sort()).toEqual(keys);
      for (const d of all) {
        const got = rx.delivered.get(d.idempotency_key)!;
        expect(got.json).toMatchObject({ decisionId: d.decision_id, actionId: d.action_id });
      }

      // (4) Raw requests include re-sends after a kill between the send and the sent mark: same key, so the
      // provider delivered them once. Messages under two keys for one customer would be duplicates.
      const duplicatesByKey = rx.delivered.size - new Set(all.map((d) => d.profile_id)).size;
      expect(duplicatesByKey).toBe(0);
      const raw = rx.requests.length;
      expect(raw).toBeGreaterThanOrEqual(rx.delivered.size);

      // (5) The summary.
      const landed = kills.beforeAck + kills.beforeDecision + kills.beforeSend + kills.beforeSentMark;
      console.log(
        `crash-delivery: cycles=${cycles} users=${users.length} delivered=${rx.delivered.size} ` +
          `raw_requests=${raw} duplicates_by_key=${duplicatesByKey}`,
      );
      console.log(
        `crash-delivery: seed=${SEED} kills landed: before-ack=${kills.beforeAck} ` +
          `before-decision=${kills.beforeDecision} decided-not-sent=${kills.beforeSend} ` +
          `provider-accepted-not-marked=${kills.beforeSentMark} ` +
          `all-sent=${cycles - landed}; ` +
          `re-sends=${raw - rx.delivered.size} (accepted-not-marked at a kill: ${resendsDue}); ` +
          `cycles took ${cycleMs} ms, the last start settled in ${settleMs} ms`,
      );
      // Errors the servers logged (a failed timer or delivery is retried, so they need not fail the test).
      const errors = [...logs, server.stderr()]
        .flatMap((l) => l.split('\n'))
        .filter((l) => /"level":(50|60)/.test(l));
      if (errors.length > 0)
        console.log(`crash-delivery: ${errors.length} error line(s):\n${errors.join('\n')}`);
    } finally {
      probe.close();
    }
  }, 240_000);
});
