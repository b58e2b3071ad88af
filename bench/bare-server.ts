import Fastify from 'fastify';

/**
 * Baseline for the ingest benchmarks: fastify 5 with the same body limit as Pathwise's batch route, whose
 * routes only parse the JSON body (fastify's own parser) and answer 200. What Pathwise does beyond this is
 * the cost of ingest. Usage: node --import tsx bench/bare-server.ts <port>
 */
const port = Number(process.argv[2] ?? 3001);
const app = Fastify({ logger: false, bodyLimit: 500 * 1024 });

app.get('/healthz', async () => ({ status: 'ok' }));
app.post('/v1/batch', async () => ({ success: true }));
app.post('/v1/track', async () => ({ success: true }));

const stop = () => {
  void app.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

await app.listen({ port, host: '127.0.0.1' });
