import type { FastifyInstance } from 'fastify';

/** How the simulated customers reach the product: its real HTTP routes, in-process or over a socket. */
export interface Sender {
  /** POSTs JSON with the write key; resolves with the status code. */
  post(path: string, body: object): Promise<number>;
  /** GETs a path (open pixel, click redirect), following no redirect. */
  get(path: string): Promise<number>;
}

const basic = (writeKey: string) => `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;

/** Through fastify's `inject`: every route, hook and validation, without a socket. */
export const injectSender = (app: FastifyInstance, writeKey: string): Sender => ({
  post: async (url, payload) =>
    (
      await app.inject({
        method: 'POST',
        url,
        payload: payload as Record<string, unknown>,
        headers: { authorization: basic(writeKey) },
      })
    ).statusCode,
  get: async (url) => (await app.inject({ method: 'GET', url })).statusCode,
});

/** Over HTTP to `base` (a server listening there), as an SDK or a mail client would. */
export const httpSender = (base: string, writeKey: string): Sender => {
  const root = base.replace(/\/+$/, '');
  return {
    post: async (path, body) => {
      const res = await fetch(`${root}${path}`, {
        method: 'POST',
        headers: { authorization: basic(writeKey), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      await res.arrayBuffer();
      return res.status;
    },
    get: async (path) => {
      const res = await fetch(`${root}${path}`, { redirect: 'manual' });
      await res.arrayBuffer();
      return res.status;
    },
  };
};
