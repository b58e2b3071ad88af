import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * How a receiver knows a webhook came from Pathwise and was not replayed:
 *
 *   x-pathwise-timestamp: 1767225600                (unix seconds when it was signed)
 *   x-pathwise-signature: sha256=<hex>              (HMAC-SHA256 of `<timestamp>.<raw body>` keyed by the secret)
 *
 * Sign the raw bytes as received (before JSON parsing), compare in constant time, and reject timestamps
 * outside a tolerance (5 minutes is usual) so a captured request cannot be replayed later.
 */
export const SIGNATURE_PREFIX = 'sha256=';

const hmacHex = (secret: string, timestamp: string, body: string | Uint8Array): string =>
  createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');

/** The `x-pathwise-signature` value for a body signed at `timestamp` (unix seconds). */
export const signPayload = (secret: string, timestamp: number | string, body: string | Uint8Array): string =>
  SIGNATURE_PREFIX + hmacHex(secret, String(timestamp), body);

/**
 * Checks a received webhook: true when `signature` (the `x-pathwise-signature` header) is the HMAC of
 * `<timestamp>.<body>` and `timestamp` (the `x-pathwise-timestamp` header, unix seconds) is within
 * `toleranceSeconds` of `now` (epoch milliseconds). Never throws on malformed input: that is just false.
 */
export const verifySignature = (
  secret: string,
  timestamp: string | number | undefined,
  body: string | Uint8Array,
  signature: string | undefined,
  toleranceSeconds: number,
  now: number,
): boolean => {
  if (timestamp === undefined || signature === undefined) return false;
  const ts = String(timestamp);
  if (!/^\d{1,12}$/.test(ts)) return false;
  if (Math.abs(now / 1000 - Number(ts)) > toleranceSeconds) return false;
  if (!signature.startsWith(SIGNATURE_PREFIX)) return false;
  const given = Buffer.from(signature.slice(SIGNATURE_PREFIX.length), 'utf8');
  const expected = Buffer.from(hmacHex(secret, ts, body), 'utf8');
  // The length is public (always 64 hex digits); only the content must be compared in constant time.
  return given.length === expected.length && timingSafeEqual(given, expected);
};
