import Fastify from 'fastify';

/**
 * Baseline for the ingest benchmarks: fastify 5 with the same body limit as Pathwise's batch route, whose
 * routes only parse the JSON body (fastify's own parser) and answer 200. What Pathwise does beyond this is
 * the cost of ingest. `POST /v1/decide` (baseline of the decide-http figure) parses the body likewise and
 * answers a constant decision of the shape Pathwise returns. Usage: node --import tsx bench/bare-server.ts <port>
 */
const port = Number(process.argv[2] ?? 3001);
const app = Fastify({ logger: false, bodyLimit: 500 * 1024 });

app.get('/healthz', async () => ({ status: 'ok' }));
app.post('/v1/batch', async () => ({ success: true }));
app.post('/v1/track', async () => ({ success: true }));

const DECISION = {
  decisionId: '0198f3a2-7c1e-7d4b-9a51-3c2e8f0b6d17',
  placement: 'home_banner',
  profileId: '0198f3a2-7c1e-7d4b-9a51-000000000001',
  action: { id: 'web_offer_00', channel: 'web' },
  content: { headline: 'Offer 0', link: '/offers/0', image: '/img/offer-0.jpg' },
  mode: 'exploit',
  propensity: 0.8342,
};
app.post('/v1/decide', async () => DECISION);

const stop = () => {
  void app.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

await app.listen({ port, host: '127.0.0.1' });
