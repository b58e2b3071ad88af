import type { Channel, JsonObject } from '../domain/index.js';
import type { ActionConfig } from '../config/index.js';

/** Everything a channel needs to deliver one message. */
export interface OutboundMessage {
  deliveryId: string;
  /** The same on every attempt: a provider that honours it delivers at most once. */
  idempotencyKey: string;
  decisionId: string;
  attempt: number;
  action: { id: string; channel: Channel; content: ActionConfig['content'] };
  /** What templates can use: `profile.traits.first_name`, `profile.computed.orders`, `profile.segments`. */
  profile: { id: string; traits: JsonObject; computed: Record<string, unknown>; segments: string[] };
  /** The decision's context for templates: the signal that led to it, the placement context. */
  context: JsonObject;
}

/** A typed result instead of vendor exceptions: the dispatcher retries only what can succeed later. */
export type DeliveryResult =
  { status: 'sent'; providerId?: string } | { status: 'failed'; retryable: boolean; reason: string };

/** One delivery channel (email over SMTP, a webhook provider for SMS, push, or anything else). */
export interface ChannelAdapter {
  send(message: OutboundMessage): Promise<DeliveryResult>;
  close(): Promise<void>;
}
