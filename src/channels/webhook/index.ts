import type { WebhookChannelConfig } from '../../config/index.js';
import { PathwiseError } from '../../errors.js';
import type { ChannelAdapter, DeliveryResult, OutboundMessage } from '../channel.js';
import { TemplateError } from '../render.js';
import { expandEnv } from '../secrets.js';
import { buildWebhookBody } from './body.js';
import { resultFromError, resultFromResponse } from './response.js';
import { signPayload } from './signature.js';

export { buildWebhookBody, type WebhookBody } from './body.js';
export { SIGNATURE_PREFIX, signPayload, verifySignature } from './signature.js';
export type { WebhookChannelConfig } from '../../config/index.js';

export interface WebhookChannelDeps {
  /** Where `${NAME}` references in the secret and header values are read from (process.env at the edge). */
  env: NodeJS.ProcessEnv;
  /** Epoch milliseconds, for the signature timestamp. */
  now: () => number;
  /** The config key (`sms`, `push`, `webhook`), so a missing variable is reported as `channels.sms.secret`. */
  name?: string;
}

/** The signed headers; configured headers cannot override them. */
export const WEBHOOK_HEADERS = {
  idempotencyKey: 'idempotency-key',
  delivery: 'x-pathwise-delivery',
  timestamp: 'x-pathwise-timestamp',
  signature: 'x-pathwise-signature',
} as const;

const MIN_SECRET_LENGTH = 16;

/**
 * A channel that POSTs each message as signed JSON to one URL: an SMS or push provider, Slack, a CRM, or a
 * relay of your own. See signature.ts for what the receiver checks. Throws PW_ERR_CONFIG_INVALID at creation
 * when a `${VAR}` is not set; `send` never throws (a bad template is a non-retryable failed result).
 */
export const createWebhookChannel = (
  config: WebhookChannelConfig,
  deps: WebhookChannelDeps,
): ChannelAdapter => {
  const field = (key: string) => `channels.${deps.name ?? 'webhook'}.${key}`;
  const secret = expandEnv(config.secret, deps.env, field('secret'));
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new PathwiseError(
      'PW_ERR_CONFIG_INVALID',
      `${field('secret')}: the secret is ${secret.length} characters after expanding \${…}; use at least ${MIN_SECRET_LENGTH}`,
      { field: field('secret') },
    );
  }
  const extraHeaders = new Headers();
  for (const [name, value] of Object.entries(config.headers)) {
    const at = field(`headers.${name}`);
    try {
      extraHeaders.set(name, expandEnv(value, deps.env, at));
    } catch (e) {
      if (e instanceof PathwiseError) throw e;
      // Checked here so that send() cannot throw on it later.
      throw new PathwiseError('PW_ERR_CONFIG_INVALID', `${at}: not a valid HTTP header`, {
        field: at,
        cause: e,
      });
    }
  }
  // Aborts requests in flight when the channel closes (shutdown should not wait for a slow provider).
  const closing = new AbortController();

  const send = async (message: OutboundMessage): Promise<DeliveryResult> => {
    if (closing.signal.aborted) return { status: 'failed', retryable: true, reason: 'channel closed' };
    let raw: string;
    try {
      raw = JSON.stringify(await buildWebhookBody(message));
    } catch (e) {
      if (e instanceof TemplateError)
        return { status: 'failed', retryable: false, reason: `template: ${e.message}` };
      return {
        status: 'failed',
        retryable: false,
        reason: `payload: ${e instanceof Error ? e.message : String(e)}`,
      };
    }
    const timestamp = Math.floor(deps.now() / 1000);
    const headers = new Headers(extraHeaders);
    headers.set('content-type', 'application/json');
    headers.set(WEBHOOK_HEADERS.idempotencyKey, message.idempotencyKey);
    headers.set(WEBHOOK_HEADERS.delivery, message.deliveryId);
    headers.set(WEBHOOK_HEADERS.timestamp, String(timestamp));
    headers.set(WEBHOOK_HEADERS.signature, signPayload(secret, timestamp, raw));
    // One deadline for connecting, the response and reading its body.
    const signal = AbortSignal.any([AbortSignal.timeout(config.timeout), closing.signal]);
    try {
      const res = await fetch(config.url, { method: 'POST', headers, body: raw, signal, redirect: 'manual' });
      return await resultFromResponse(res);
    } catch (e) {
      if (closing.signal.aborted) return { status: 'failed', retryable: true, reason: 'channel closed' };
      return resultFromError(e, config.timeout);
    }
  };

  return {
    send,
    close: async () => closing.abort(),
  };
};
