import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

const INGEST =
  /^\/v1\/(track|identify|page|screen|group|alias|batch|decide|decisions\/[^/?]+\/outcome)(\?|$)/;

/**
 * Browser SDKs post events (and ask for decisions) from the customer's own site, another origin: these routes answer CORS
 * preflights from any origin, as Segment's API does (write keys are public in browsers by design).
 * Read and admin routes send no CORS headers, so a foreign page cannot use them from a browser.
 */
export const registerCors = (app: FastifyInstance): void => {
  void app.register(cors, {
    delegator: (req, cb) => {
      const ingest = INGEST.test(req.url ?? '');
      cb(null, {
        origin: ingest,
        methods: ['POST'],
        allowedHeaders: ['authorization', 'content-type', 'content-encoding'],
        maxAge: 86_400,
      });
    },
  });
};
