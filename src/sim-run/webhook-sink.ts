import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a webhook channel (sms, push, webhook) made. */
export interface SinkRequest {
  path: string;
  json: Record<string, unknown>;
}

/** A local HTTP server standing in for the SMS, push and webhook providers. */
export interface WebhookSink {
  url(path: string): string;
  take(): SinkRequest[];
  close(): Promise<void>;
}

/** Answers 200 to every POST once its JSON body is stored, as a provider that accepted the message. */
export const startWebhookSink = async (): Promise<WebhookSink> => {
  let inbox: SinkRequest[] = [];
  let count = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        // not JSON: kept empty, the driver ignores it
      }
      inbox.push({ path: req.url ?? '', json });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: `sim-${++count}` }));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    take: () => {
      const out = inbox;
      inbox = [];
      return out;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
