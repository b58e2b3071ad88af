import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { customerToken, CUSTOMERS, eventTime, makeCall, messageIdOf, seededRng, type Rng } from './events.js';
import type { Workspace } from './workspace.js';

/**
 * Fixtures of figure `loop`: the orchestration part of its config (a goal, webhook channels to the bench's
 * receiver, message actions triggered by one event) and the batches its simulated customers send.
 */

/** The event that makes the message actions candidates: one event in five. */
export const TRIGGER_EVENT = 'Checkout Started';
export const TRIGGER_EVERY = 5;
/** HMAC key of the bench's webhook channels (the receiver does not check it). */
const SECRET = 'bench-webhook-secret-0001';

/**
 * Three approved message actions on `Checkout Started` (two SMS, one push; both channels webhooks to the
 * receiver), each with weight 5 so an untrained model (Beta(1,1) for every option) picks one over doing nothing
 * in ~99% of decisions. Holdout 0, no do-not-repeat, no caps or quiet hours: every triggering event should
 * become a delivery. Each payload carries the triggering event's messageId (`ref`), so the receiver can time
 * the whole loop per event.
 */
export const orchestration = (receiverUrl: string): Record<string, unknown> => {
  const hook = (path: string) => ({
    url: `${receiverUrl}${path}`,
    secret: SECRET,
    timeout: '10s',
    retry: { maxAttempts: 3, backoff: '1s' },
  });
  const action = (id: string, channel: 'sms' | 'push', text: string) => ({
    id,
    channel,
    status: 'approved',
    trigger: { events: [TRIGGER_EVENT] },
    weight: 5,
    content: {
      payload: {
        text,
        ref: '{{ context.signal.messageId }}',
      },
    },
  });
  return {
    goal: { event: 'Order Completed', value: { property: 'total', default: 45 }, attributionWindow: '7d' },
    holdout: { share: 0 },
    policy: { doNotRepeat: '0s' },
    channels: { sms: hook('/sms'), push: hook('/push') },
    actions: [
      action(
        'sms_cart_reminder',
        'sms',
        'Hi {{ profile.traits.name | default: "there" }}, your cart is waiting',
      ),
      action('sms_cart_discount', 'sms', '10% off the cart you left, today only'),
      action('push_cart_reminder', 'push', 'Still thinking it over? Your cart is saved.'),
    ],
  };
};

/**
 * Rewrites the bench config of `ws` for figure `loop`: with `receiverUrl`, the goal, channels and actions
 * above; without it, the same goal and nothing to send (the ingest-only baseline: the same events trigger
 * nothing).
 */
export const writeLoopConfig = (ws: Workspace, receiverUrl: string | undefined): void => {
  const base = parse(readFileSync(ws.config, 'utf8')) as Record<string, unknown>;
  const loop = orchestration(receiverUrl ?? 'http://127.0.0.1:9');
  const config =
    receiverUrl === undefined
      ? { ...base, goal: loop.goal, holdout: loop.holdout, policy: loop.policy }
      : { ...base, ...loop };
  writeFileSync(ws.config, stringify(config));
};

export interface LoopBatch {
  body: string;
  /** messageIds of the triggering events in it. */
  triggers: string[];
  events: number;
}

/**
 * `/v1/batch` bodies of `eventsPerBatch` events: every 5th a `Checkout Started` (userId, timestamp now, so it
 * is recent enough to trigger; `context.traits` with the customer's name, phone and push token, which the sms
 * and push channels need), the others the bench's usual page/track mix (bench/events.ts, identify calls
 * re-drawn) over 100,000 customers. Built per request (~0.1 ms for 100 events); every messageId is unique.
 */
export class LoopBatches {
  private readonly rng: Rng;
  private seq = 0;
  issued = 0;

  constructor(
    seed: number,
    private readonly runTag: string,
    private readonly eventsPerBatch = 100,
  ) {
    this.rng = seededRng(seed);
  }

  next(): LoopBatch {
    const now = Date.now();
    const batch: unknown[] = [];
    const triggers: string[] = [];
    for (let i = 0; i < this.eventsPerBatch; i++) {
      const c = customerToken(Math.floor(this.rng() * CUSTOMERS));
      const messageId = messageIdOf(this.runTag, this.seq++);
      if (i % TRIGGER_EVERY === TRIGGER_EVERY - 1) {
        triggers.push(messageId);
        batch.push({
          type: 'track',
          messageId,
          userId: `usr_${c}`,
          event: TRIGGER_EVENT,
          timestamp: new Date(now).toISOString(),
          properties: {
            cart_value: Math.floor(this.rng() * 30_000) / 100,
            items: 1 + Math.floor(this.rng() * 5),
            currency: 'EUR',
          },
          // Segment clients attach the known traits: the sms and push channels need phone and push_token.
          context: {
            ip: '10.0.0.1',
            locale: 'en-GB',
            library: { name: 'analytics.js', version: '5.2.1' },
            traits: { name: `Customer ${c}`, phone: `+44 7700 ${c}`, push_token: `ptok_${c}` },
          },
        });
        continue;
      }
      let call = makeCall(this.rng, c, messageId, eventTime(this.rng, now));
      while (call.type === 'identify') call = makeCall(this.rng, c, messageId, eventTime(this.rng, now));
      batch.push(call);
    }
    this.issued++;
    return {
      body: JSON.stringify({ batch, sentAt: new Date(now).toISOString() }),
      triggers,
      events: this.eventsPerBatch,
    };
  }
}
