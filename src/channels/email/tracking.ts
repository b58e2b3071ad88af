import { decodeEntities } from './html-text.js';
import { signToken } from './tokens.js';

/** Where this message's links point: the server's public routes, each with a token signed by `linkSecret`. */
export interface MessageLinks {
  /** `publicUrl/v1/unsubscribe/TOKEN`: one-click unsubscribe (RFC 8058) and the `{{ unsubscribe_url }}`. */
  unsubscribe: string;
  /** `publicUrl/v1/t/o/TOKEN.gif`: the open pixel. */
  open: string;
  /** `publicUrl/v1/t/c/TOKEN?u=<url>`: a click redirect to `url`. */
  click: (url: string) => string;
}

export const messageLinks = (
  publicUrl: string,
  secret: string,
  ids: { decisionId: string; profileId: string },
): MessageLinks => {
  const base = publicUrl.replace(/\/+$/, '');
  const token = (kind: 'open' | 'unsubscribe') => signToken(secret, { ...ids, kind });
  return {
    unsubscribe: `${base}/v1/unsubscribe/${token('unsubscribe')}`,
    open: `${base}/v1/t/o/${token('open')}.gif`,
    click: (url) =>
      `${base}/v1/t/c/${signToken(secret, { ...ids, kind: 'click', url })}?u=${encodeURIComponent(url)}`,
  };
};

const ANCHOR = /<(?:a|area)\b[^>]*>/gi;
const HREF = /(\bhref\s*=\s*)(?:"(https?:[^"]*)"|'(https?:[^']*)')/i;

/**
 * Points every `http(s)` link of an `<a>` or `<area>` tag at the click redirect. Other tags' hrefs (MJML's
 * font `<link>`s) stay, and so do links for which `keep` is true (the unsubscribe link: a click on it must
 * unsubscribe, not count as engagement).
 */
export const rewriteLinks = (html: string, click: (url: string) => string, keep: (url: string) => boolean) =>
  html.replace(ANCHOR, (tag) =>
    tag.replace(HREF, (whole, prefix: string, double: string | undefined, single: string | undefined) => {
      const url = decodeEntities(double ?? single ?? '').trim();
      return keep(url) ? whole : `${prefix}"${click(url).replace(/&/g, '&amp;')}"`;
    }),
  );

/** Appends a 1×1 open pixel at the end of the body (or of the document when it has no `<body>`). */
export const addOpenPixel = (html: string, src: string): string => {
  const pixel = `<img src="${src}" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px" />`;
  const end = html.search(/<\/body\s*>/i);
  return end === -1 ? `${html}${pixel}` : `${html.slice(0, end)}${pixel}${html.slice(end)}`;
};
