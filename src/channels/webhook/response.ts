import type { DeliveryResult } from '../channel.js';
import { PostError, type PostResponse } from './post.js';

/** Enough of a response to find an `id` or quote an error; a provider's long error page is cut off here. */
export const MAX_BODY_BYTES = 64 * 1024;
const EXCERPT_CHARS = 200;

/** Statuses where the same request can succeed later: timeout, too early, rate limited, and every 5xx. */
const isRetryableStatus = (status: number): boolean =>
  status === 408 || status === 425 || status === 429 || status >= 500;

const providerIdFrom = (text: string): string | undefined => {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && 'id' in parsed) {
      const id = (parsed as { id: unknown }).id;
      if (typeof id === 'string' || typeof id === 'number') return String(id);
    }
  } catch {
    // Not JSON: a provider that answers 200 with text still delivered; it just gave no id.
  }
  return undefined;
};

const excerpt = (text: string): string => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
};

/** Maps an HTTP response to a DeliveryResult: 2xx sent, retryable statuses retried, the rest failed for good. */
export const resultFromResponse = (res: PostResponse): DeliveryResult => {
  const { text } = res;
  if (res.status >= 200 && res.status < 300) {
    const providerId = providerIdFrom(text);
    return providerId === undefined ? { status: 'sent' } : { status: 'sent', providerId };
  }
  const retryAfter = res.header('retry-after');
  let reason = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
  if (retryAfter !== undefined) reason += ` (retry-after: ${retryAfter})`;
  if (res.status >= 300 && res.status < 400) {
    // Redirects are not followed: a 301/302 would turn the POST into a GET and drop the signed body.
    reason += ` to ${res.header('location') ?? '(no location)'}: update the channel url`;
  }
  const quoted = excerpt(text);
  if (quoted !== '') reason += `: ${quoted}`;
  return { status: 'failed', retryable: isRetryableStatus(res.status), reason };
};

/** Maps a failed request (timeout, refused, reset, DNS) to a retryable failure that says what happened. */
export const resultFromError = (error: unknown, timeoutMs: number): DeliveryResult => {
  if (error instanceof PostError && error.code === 'TIMEOUT') {
    return {
      status: 'failed',
      retryable: true,
      reason: `timeout: no complete response within ${timeoutMs} ms`,
    };
  }
  const code =
    error !== null && typeof error === 'object' && 'code' in error ? String(error.code) : undefined;
  const detail = error instanceof Error ? error.message : String(error);
  return { status: 'failed', retryable: true, reason: `network: ${code ? `${code} ` : ''}(${detail})` };
};
