import { timingSafeEqual } from 'node:crypto';
import { PathwiseError } from '../errors.js';

/** Write keys (key → source name) and the admin key, gathered from config and environment. */
export interface Keys {
  writeKeys: Map<string, string>;
  adminKey: string | undefined;
}

/**
 * Segment clients send the write key as the HTTP Basic user name with an empty password; some send it as
 * `writeKey` in the body instead, which the ingest routes check after parsing.
 */
export const writeKeyFromHeader = (authorization: string | undefined): string | undefined => {
  if (!authorization?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const key = colon < 0 ? decoded : decoded.slice(0, colon);
  return key === '' ? undefined : key;
};

export const sourceForKey = (keys: Keys, key: string | undefined): string => {
  const source = key === undefined ? undefined : keys.writeKeys.get(key);
  if (source === undefined) throw new PathwiseError('PW_ERR_AUTH_WRITE_KEY', '');
  return source;
};

/** Compares in constant time so the admin key cannot be guessed byte by byte from response times. */
export const checkAdmin = (keys: Keys, authorization: string | undefined): void => {
  const sent = Buffer.from(authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : '', 'utf8');
  const want = keys.adminKey === undefined ? undefined : Buffer.from(keys.adminKey, 'utf8');
  const ok = want !== undefined && sent.length === want.length && timingSafeEqual(sent, want);
  if (!ok) throw new PathwiseError('PW_ERR_AUTH_ADMIN_KEY', '');
};
