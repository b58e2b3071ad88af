import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a tracking or unsubscribe link stands for. */
export type TokenKind = 'open' | 'click' | 'unsubscribe';

export interface TokenPayload {
  decisionId: string;
  profileId: string;
  kind: TokenKind;
  /**
   * Click links only: the target URL. It is not stored in the token (the link carries it as `?u=`) but the
   * signature covers it, so a token cannot be reused to redirect anywhere else.
   */
  url?: string;
}

const KIND_CODES = { open: 'o', click: 'c', unsubscribe: 'u' } as const satisfies Record<TokenKind, string>;
const KINDS_BY_CODE: Record<string, TokenKind> = { o: 'open', c: 'click', u: 'unsubscribe' };

const mac = (secret: string, body: string, url: string | undefined): Buffer =>
  // The URL is appended after a separator that cannot occur in base64url, so body and URL cannot be shifted.
  createHmac('sha256', secret)
    .update(url === undefined ? body : `${body}\n${url}`)
    .digest();

/**
 * A compact signed token for links: base64url of `[decisionId, profileId, kind]`, a dot, and the base64url
 * HMAC-SHA256 (key `linkSecret`) of that text (and, for clicks, of the target URL). URL-safe as it is.
 */
export const signToken = (secret: string, payload: TokenPayload): string => {
  if (payload.kind === 'click' && payload.url === undefined) throw new Error('a click token needs its url');
  const body = Buffer.from(
    JSON.stringify([payload.decisionId, payload.profileId, KIND_CODES[payload.kind]]),
  ).toString('base64url');
  const url = payload.kind === 'click' ? payload.url : undefined;
  return `${body}.${mac(secret, body, url).toString('base64url')}`;
};

/**
 * The payload of a token signed with `secret`, or undefined when it is malformed or the signature does not
 * match (compared in constant time). A click token verifies only together with its target URL (`?u=`).
 */
export const verifyToken = (secret: string, token: string, url?: string): TokenPayload | undefined => {
  const dot = token.indexOf('.');
  if (dot <= 0 || dot !== token.lastIndexOf('.')) return undefined;
  const body = token.slice(0, dot);
  const signature = token.slice(dot + 1);
  const given = Buffer.from(signature, 'base64url');
  // Buffer's base64url decoder skips stray characters: accept only the one canonical spelling.
  if (given.toString('base64url') !== signature) return undefined;
  let fields: unknown;
  try {
    fields = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(fields) || fields.length !== 3 || !fields.every((f) => typeof f === 'string')) {
    return undefined;
  }
  const [decisionId, profileId, code] = fields as [string, string, string];
  const kind = KINDS_BY_CODE[code];
  if (kind === undefined) return undefined;
  if (kind === 'click' && url === undefined) return undefined;
  const expected = mac(secret, body, kind === 'click' ? url : undefined);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  return kind === 'click' ? { decisionId, profileId, kind, url } : { decisionId, profileId, kind };
};
