import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: Record<string, unknown>;
}

/**
 * A real webhook provider on a loopback port: records every request, dedups by idempotency key (as providers
 * that honour keys do), and can be told to fail the next requests.
 */
export interface Receiver {
  url: (path: string) => string;
  requests: Received[];
  /** One entry per distinct idempotency key: what a provider that honours keys actually delivers. */
  delivered: Map<string, Received>;
  /** Status codes to answer with next, in order (then 200). */
  failNext: number[];
  close(): Promise<void>;
}

export const startReceiver = async (): Promise<Receiver> => {
  const state = {
    requests: [] as Received[],
    delivered: new Map<string, Received>(),
    failNext: [] as number[],
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(body) as Record<string, unknown>;
      } catch {
        // not JSON: kept as text
      }
      const r: Received = { path: req.url ?? '', headers: req.headers, body, json };
      state.requests.push(r);
      const status = state.failNext.shift() ?? 200;
      if (status < 300) {
        const key = String(req.headers['idempotency-key'] ?? `none-${state.requests.length}`);
        if (!state.delivered.has(key)) state.delivered.set(key, r);
      }
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: `prov-${state.requests.length}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ...state,
    get failNext() {
      return state.failNext;
    },
    set failNext(v: number[]) {
      state.failNext = v;
    },
    url: (path) => `http://127.0.0.1:${port}${path}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};
