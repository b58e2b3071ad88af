import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A port the system has free on `host` now (it could be taken before it is used; fine on a test machine). */
export const freePort = (host: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
