import { z } from 'zod';
import { duration } from './duration.js';

/**
 * The `channels:` section: how each channel delivers. Secrets can be written as `${ENV_VAR}` and are read
 * from the environment when the server starts, so the file can be committed without them.
 */

/** A secret: at least 16 characters, or `${ENV_VAR}` (checked after expansion when the channel starts). */
const secret = (what: string) =>
  z.string().refine((v) => /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(v) || v.length >= 16, {
    message: `${what} must be at least 16 characters, or \${ENV_VAR} to read it from the environment`,
  });

const httpUrl = z.url({
  protocol: /^https?$/,
  error: 'must be an http(s) URL, e.g. https://example.com/hook',
});

const retrySchema = z.strictObject({
  /** Attempts before the delivery fails for good (dead letter and a `Delivery Failed` event). */
  maxAttempts: z.number().int().min(1).max(20).default(5),
  /** First backoff; it doubles per attempt, with ±20% jitter. */
  backoff: duration.default(30_000),
});

export const webhookChannelSchema = z.strictObject({
  /** The provider endpoint the JSON payload is POSTed to. */
  url: httpUrl,
  /** HMAC-SHA256 key for the `X-Pathwise-Signature` header (at least 16 characters). */
  secret: secret('webhook secrets'),
  headers: z.record(z.string(), z.string()).default({}),
  timeout: duration.default(10_000),
  retry: retrySchema.default({ maxAttempts: 5, backoff: 30_000 }),
});

export const emailChannelSchema = z.strictObject({
  smtp: z.strictObject({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65_535).default(587),
    /** true: TLS from the start (port 465); false: STARTTLS when the server offers it. */
    secure: z.boolean().default(false),
    user: z.string().optional(),
    pass: z.string().optional(),
  }),
  /** The sender, e.g. `Shop <news@shop.example>`. */
  from: z.string().min(3),
  /** Folder of `.liquid` / `.mjml` templates, relative to the config file. */
  templates: z.string().default('templates'),
  /** The public base URL of this server, for open pixels, click redirects and unsubscribe links. */
  publicUrl: httpUrl,
  /** Key that signs tracking and unsubscribe links (at least 16 characters). */
  linkSecret: secret('link secrets'),
  retry: retrySchema.default({ maxAttempts: 5, backoff: 30_000 }),
});

export const channelsSchema = z.strictObject({
  email: emailChannelSchema.optional(),
  sms: webhookChannelSchema.optional(),
  push: webhookChannelSchema.optional(),
  webhook: webhookChannelSchema.optional(),
});

export type ChannelsConfig = z.output<typeof channelsSchema>;
export type WebhookChannelConfig = z.output<typeof webhookChannelSchema>;
export type EmailChannelConfig = z.output<typeof emailChannelSchema>;
