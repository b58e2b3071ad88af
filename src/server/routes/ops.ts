import type { FastifyInstance } from 'fastify';
import type { StoreReader } from '../../store/store.js';
import type { ServerMetrics } from '../metrics.js';

/** Liveness with a store round trip, and Prometheus metrics. Both unauthenticated, as scrapers expect. */
export const opsRoutes = (
  app: FastifyInstance,
  deps: { reader: StoreReader; metrics: ServerMetrics },
): void => {
  app.get('/healthz', async (_req, reply) => {
    try {
      await deps.reader.resolveProfileId('healthz:probe');
      return { status: 'ok', store: 'ok' };
    } catch (err) {
      return reply
        .code(503)
        .send({ status: 'unavailable', store: err instanceof Error ? err.message : String(err) });
    }
  });

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
};
