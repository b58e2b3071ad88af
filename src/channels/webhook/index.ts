import type { WebhookChannelConfig } from '../../config/index.js';
import { PathwiseError } from '../../errors.js';
import type { ChannelAdapter, DeliveryResult, OutboundMessage } from '../channel.js';
import { TemplateError } from '../render.js';
import { expandEnv } from '../secrets.js';
import { buildWebhookBody } from './body.js';
import { createPoster } from './post.js';
import { MAX_BODY_BYTES, resultFromError, resultFromResponse } from './response.js';
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
  // Requests in flight fail when the channel closes (shutdown should not wait for a slow provider).
  const poster = createPoster(config.url, { timeoutMs: config.timeout, maxBodyBytes: MAX_BODY_BYTES });
  let closing = false;
  const extra: Record<string, string> = {};
  extraHeaders.forEach((value, name) => (extra[name] = value));

  const send = async (message: OutboundMessage): Promise<DeliveryResult> => {
    if (closing) return { status: 'failed', retryable: true, reason: 'channel closed' };
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
    const headers: Record<string, string> = {
      ...extra,
      'content-type': 'application/json',
      [WEBHOOK_HEADERS.idempotencyKey]: message.idempotencyKey,
      [WEBHOOK_HEADERS.delivery]: message.deliveryId,
      [WEBHOOK_HEADERS.timestamp]: String(timestamp),
      [WEBHOOK_HEADERS.signature]: signPayload(secret, timestamp, raw),
    };
    try {
      return resultFromResponse(await poster.post(headers, raw));
    } catch (e) {
      if (closing) return { status: 'failed', retryable: true, reason: 'channel closed' };
      return resultFromError(e, config.timeout);
    }
  };

  return {
    send,
    close: async () => {
      closing = true;
      poster.close();
    },
  };
};
