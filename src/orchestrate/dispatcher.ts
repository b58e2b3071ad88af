import {
  INTERNAL_SOURCE,
  type Channel,
  type Delivery,
  type JsonObject,
  type Profile,
} from '../domain/index.js';
import { nextAttemptDelay, type ChannelEntry, type DeliveryResult } from '../channels/index.js';
import { computedValues } from '../profiles/index.js';
import type { Store, StoreWriter } from '../store/index.js';
import type { DecisionService, DecisionSettings } from './decision-service.js';
import { responseWindowTimer } from './engine.js';
import { GroupWriter } from './group-writer.js';

export interface DispatcherDeps {
  store: Store;
  decisions: DecisionService;
  channels: ReadonlyMap<Channel, ChannelEntry>;
  computedTraits: () => DecisionSettings['computedTraits'];
  now: () => number;
  newId: () => string;
  random: () => number;
  onError: (err: unknown, what: string) => void;
  onDelivered?: (d: Delivery, result: DeliveryResult) => void;
}

/** Sends at once per process: bounds sockets and memory when a provider is slow. */
const MAX_IN_FLIGHT = 64;

/** Receipts are events on the customer's timeline (and signals the engine learns from). */
export const MESSAGE_SENT = 'Message Sent';
export const DELIVERY_FAILED = 'Delivery Failed';

const receipt = (d: Delivery, name: string, at: number, properties: JsonObject) => ({
  messageId: `receipt:${d.id}:${name === MESSAGE_SENT ? 'sent' : 'failed'}`,
  source: INTERNAL_SOURCE,
  type: 'track' as const,
  event: name,
  timestamp: at,
  receivedAt: at,
  properties: {
    deliveryId: d.id,
    decisionId: d.decisionId,
    actionId: d.actionId,
    channel: d.channel,
    ...properties,
  },
  traits: {},
  context: {},
  profileId: d.profileId,
});

/**
 * Delivers due outbox rows through their channel. Effectively once: the row is marked sent only after the
 * channel accepted it, so a crash in between sends it again with the same idempotency key (a provider that
 * honours keys delivers it once). Before each send the action's current state is checked, so a pause or the
 * kill switch stops new sends at the next tick; queued rows are cancelled.
 */
export class Dispatcher {
  /** Deliveries being sent now: a slow provider holds only its own sends, never the next tick's. */
  private readonly inFlight = new Set<string>();

  private readonly records: GroupWriter<(w: StoreWriter) => Promise<void>, void>;

  constructor(private readonly deps: DispatcherDeps) {
    this.records = new GroupWriter(deps.store, (w, write) => write(w));
  }

  /**
   * Starts every due delivery not already in flight (up to a bound) and resolves when those are recorded.
   * When the bound cut the batch short it goes on with the next batch at once rather than at the next beat:
   * otherwise sends could never exceed MAX_IN_FLIGHT per beat (64 per 200 ms, measured as the loop's ceiling).
   * A batch with a failure ends the drain, so a row that keeps failing cannot spin it.
   */
  async tick(): Promise<number> {
    let total = 0;
    for (;;) {
      const room = MAX_IN_FLIGHT - this.inFlight.size;
      if (room <= 0) return total;
      const due = (
        await this.deps.store.read.dueDeliveries(this.deps.now(), room + this.inFlight.size)
      ).filter((d) => !this.inFlight.has(d.id));
      const started = due.slice(0, room);
      // Claimed synchronously after the read, so a concurrent tick cannot start the same delivery.
      for (const d of started) this.inFlight.add(d.id);
      let failed = false;
      await Promise.all(
        started.map((d) =>
          this.deliver(d)
            .catch((err: unknown) => {
              failed = true;
              this.deps.onError(err, `delivery ${d.id}`);
            })
            .finally(() => this.inFlight.delete(d.id)),
        ),
      );
      total += started.length;
      if (started.length < room || failed) return total;
    }
  }

  private async deliver(listed: Delivery): Promise<void> {
    // The row may have been sent by a tick that read the same due list a moment earlier, or cancelled since.
    const d = await this.deps.store.read.getDelivery(listed.id);
    if (d === undefined || d.status !== 'pending' || d.nextAttemptAt > this.deps.now()) return;
    const catalog = this.deps.decisions.current;
    const action = catalog.byId.get(d.actionId);
    const stop = catalog.policy.killSwitch
      ? 'the kill switch is on'
      : action === undefined
        ? 'the action is no longer in the catalog'
        : action.config.status !== 'approved'
          ? `the action is ${action.config.status}`
          : undefined;
    if (stop !== undefined) {
      await this.deps.store.write((w) =>
        w.updateDelivery(d.id, { status: 'cancelled', reason: stop, updatedAt: this.deps.now() }),
      );
      return;
    }
    const entry = this.deps.channels.get(d.channel);
    const [profile, decision] = await Promise.all([
      this.deps.store.read.getProfile(d.profileId),
      this.deps.store.read.getDecision(d.decisionId),
    ]);
    let result: DeliveryResult;
    if (entry === undefined) {
      result = { status: 'failed', retryable: false, reason: `no ${d.channel} channel is configured` };
    } else if (profile === undefined || decision === undefined || action === undefined) {
      result = {
        status: 'failed',
        retryable: false,
        reason: 'the customer or the decision no longer exists',
      };
    } else {
      result = await entry.adapter.send({
        deliveryId: d.id,
        idempotencyKey: d.idempotencyKey,
        decisionId: d.decisionId,
        attempt: d.attempts + 1,
        action: { id: action.id, channel: action.channel, content: action.config.content },
        profile: this.profileView(profile),
        context: { signal: decision.signal as unknown as JsonObject },
      });
    }
    const now = this.deps.now();
    // Grouped with the other sends that finish meanwhile: one durable commit for many receipts.
    await this.records.submit(async (w) => {
      const current = await w.getDelivery(d.id);
      // Cancelled while it was being sent (a conversion, a pause): keep the cancellation, the send is history.
      if (current === undefined || current.status !== 'pending') return;
      await this.record(w, d, result, now, action?.config.responseWindow, decision);
    });
    this.deps.onDelivered?.(d, result);
  }

  private async record(
    w: StoreWriter,
    d: Delivery,
    result: DeliveryResult,
    now: number,
    responseWindow: number | undefined,
    decision: Parameters<typeof responseWindowTimer>[1] | undefined,
  ): Promise<void> {
    const attempts = d.attempts + 1;
    if (result.status === 'sent') {
      await w.updateDelivery(d.id, {
        status: 'sent',
        attempts,
        sentAt: now,
        updatedAt: now,
        ...(result.providerId === undefined ? {} : { providerId: result.providerId }),
      });
      await w.appendEvent(receipt(d, MESSAGE_SENT, now, { attempts }));
      if (responseWindow !== undefined && decision !== undefined) {
        await w.addTimer(responseWindowTimer(d, decision, responseWindow, { now, newId: this.deps.newId }));
      }
      return;
    }
    const retry = this.deps.channels.get(d.channel)?.retry;
    const delay =
      result.retryable && retry !== undefined
        ? nextAttemptDelay(attempts, retry, this.deps.random)
        : undefined;
    if (delay !== undefined) {
      await w.updateDelivery(d.id, {
        attempts,
        nextAttemptAt: now + delay,
        reason: result.reason,
        updatedAt: now,
      });
      return;
    }
    await w.updateDelivery(d.id, { status: 'failed', attempts, reason: result.reason, updatedAt: now });
    await w.appendEvent(receipt(d, DELIVERY_FAILED, now, { attempts, reason: result.reason }));
    await w.addDeadLetter({
      source: INTERNAL_SOURCE,
      receivedAt: now,
      code: 'PW_ERR_DELIVERY_FAILED',
      field: `deliveries.${d.id}`,
      reason: `${d.channel} delivery of ${d.actionId} failed after ${attempts} attempt(s): ${result.reason}`,
      payload: JSON.stringify({ deliveryId: d.id, decisionId: d.decisionId, actionId: d.actionId }),
    });
    // Try an alternative at once, as when a message gets no response.
    if (decision !== undefined)
      await w.addTimer(responseWindowTimer(d, decision, 0, { now, newId: this.deps.newId }));
    // A message that never arrived earned nothing: the model learns that at once rather than at window end.
    if (
      await w.addOutcome({
        decisionId: d.decisionId,
        at: now,
        kind: 'none',
        reward: 0,
        value: 0,
        cause: 'delivery-failed',
      })
    )
      await w.resolveDecision(d.decisionId, { reward: 0, value: 0, at: now, kind: 'none' });
  }

  private profileView(p: Profile) {
    const computed: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(computedValues(p, this.deps.computedTraits(), this.deps.now())))
      computed[k] = v instanceof Date ? v.toISOString() : v;
    return { id: p.id, traits: p.traits, computed, segments: p.segments };
  }
}
