import type { FastifyInstance } from 'fastify';
import type { EmailLinks } from '../../orchestrate/index.js';

/** A transparent 1×1 GIF. */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

const page = (title: string, body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
  `<title>${title}</title></head><body style="font-family:sans-serif;max-width:32em;margin:4em auto">` +
  `<h1>${title}</h1>${body}</body></html>`;

/**
 * The links inside emails: open pixel, click redirect, unsubscribe (a page with a button, and RFC 8058
 * one-click POST). Public by design (no key): each link carries a signed token, and a bad one changes nothing.
 */
export const trackingRoutes = (app: FastifyInstance, deps: { links: EmailLinks }): void => {
  app.register(async (scoped) => {
    // RFC 8058: mail clients POST `List-Unsubscribe=One-Click` as a form; the body itself carries nothing we need.
    scoped.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_req, body, done) => done(null, body),
    );

    scoped.get('/v1/t/o/:token', async (req, reply) => {
      const token = (req.params as { token: string }).token.replace(/\.gif$/, '');
      await deps.links.opened(token);
      return reply.header('cache-control', 'no-store').type('image/gif').send(PIXEL);
    });

    scoped.get('/v1/t/c/:token', async (req, reply) => {
      const { token } = req.params as { token: string };
      const url = (req.query as { u?: unknown }).u;
      const target = typeof url === 'string' ? await deps.links.clicked(token, url) : undefined;
      if (target === undefined) {
        return reply
          .code(400)
          .type('text/html')
          .send(page('This link is not valid', '<p>It may have been cut short.</p>'));
      }
      return reply.redirect(target, 302);
    });

    scoped.get('/v1/unsubscribe/:token', async (req, reply) => {
      const { token } = req.params as { token: string };
      return reply
        .type('text/html')
        .send(
          page(
            'Unsubscribe',
            `<p>Stop marketing emails to this address?</p><form method="post" action="/v1/unsubscribe/${encodeURIComponent(token)}">` +
              `<button type="submit">Unsubscribe</button></form>`,
          ),
        );
    });

    scoped.post('/v1/unsubscribe/:token', async (req, reply) => {
      const ok = await deps.links.unsubscribe((req.params as { token: string }).token);
      return reply
        .code(ok ? 200 : 400)
        .type('text/html')
        .send(
          ok
            ? page('You are unsubscribed', '<p>You will get no more marketing emails from us.</p>')
            : page('This link is not valid', ''),
        );
    });
  });
};
