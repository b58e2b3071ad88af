import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { IngestService } from '../ingest/index.js';
import type { DecisionService, EmailLinks, OutcomeService, Oversight } from '../orchestrate/index.js';
import type { PrivacyService, ProfileQueries } from '../profiles/index.js';
import type { StoreReader } from '../store/index.js';
import { PathwiseError, isPathwiseError } from '../errors.js';
import type { Keys } from './auth.js';
import type { ServerMetrics } from './metrics.js';
import { registerJsonParser } from './json-body.js';
import { registerDecompression } from './compression.js';
import { registerCors } from './cors.js';
import { ingestRoutes } from './routes/ingest.js';
import { queryRoutes } from './routes/query.js';
import { opsRoutes } from './routes/ops.js';
import { decideRoutes } from './routes/decide.js';
import { adminRoutes, type ReloadResult } from './routes/admin.js';
import { trackingRoutes } from './routes/tracking.js';
import { privacyRoutes } from './routes/privacy.js';

export interface ServerDeps {
  ingest: IngestService;
  decisions: DecisionService;
  outcomes: OutcomeService;
  oversight: Oversight;
  links: EmailLinks;
  profiles: ProfileQueries;
  privacy: PrivacyService;
  reader: StoreReader;
  keys: Keys;
  metrics: ServerMetrics;
  logger: Logger;
  limits: { maxEventBytes: number; maxBatchBytes: number };
  /** Re-reads the config file; absent when the server was not started from one. */
  reloadConfig?: () => Promise<ReloadResult>;
}

/** Builds the HTTP server (not listening): fastify with every route, error mapping and metrics. */
export const buildServer = (deps: ServerDeps): FastifyInstance => {
  const app = Fastify({
    loggerInstance: deps.logger,
    // Per-request info logs would cost more than the ingest itself at thousands of requests a second;
    // errors are still logged by the error handler below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.limits.maxBatchBytes,
    // Signed tokens in email links are longer than fastify's default of 100 characters per path parameter.
    routerOptions: { maxParamLength: 512 },
  }) as unknown as FastifyInstance;

  registerJsonParser(app);
  registerDecompression(app);
  registerCors(app);

  app.addHook('onResponse', async (req, reply) => {
    deps.metrics.http.observe(
      {
        method: req.method,
        route: req.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });

  app.setErrorHandler(async (err, req, reply) => {
    const e = toPathwiseError(err, req.url, deps.limits);
    if (e.status >= 500) req.log.error({ err }, 'request failed');
    return reply.code(e.status).send({ success: false, ...e.toJSON() });
  });
  app.setNotFoundHandler(async (req, reply) => {
    const e = new PathwiseError('PW_ERR_NOT_FOUND', `${req.method} ${req.url}`);
    return reply.code(404).send({ success: false, ...e.toJSON() });
  });

  ingestRoutes(app, { ingest: deps.ingest, keys: deps.keys, ...deps.limits });
  decideRoutes(app, { decisions: deps.decisions, outcomes: deps.outcomes, keys: deps.keys });
  queryRoutes(app, { profiles: deps.profiles, ingest: deps.ingest, keys: deps.keys });
  privacyRoutes(app, { privacy: deps.privacy, keys: deps.keys });
  trackingRoutes(app, { links: deps.links });
  adminRoutes(app, {
    keys: deps.keys,
    oversight: deps.oversight,
    ...(deps.reloadConfig ? { reloadConfig: deps.reloadConfig } : {}),
  });
  opsRoutes(app, { reader: deps.reader, metrics: deps.metrics });
  return app;
};

/** Maps fastify's own errors (body too large, bad content) to our catalogue, with a message that says the fix. */
const toPathwiseError = (
  err: unknown,
  url: string,
  limits: { maxEventBytes: number; maxBatchBytes: number },
): PathwiseError => {
  if (isPathwiseError(err)) return err;
  const code = (err as { code?: string }).code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const batch = url.startsWith('/v1/batch');
    return new PathwiseError(
      'PW_ERR_INGEST_TOO_LARGE',
      batch
        ? `request body exceeds ${limits.maxBatchBytes} bytes, the limit per batch: split it into smaller batches`
        : `request body exceeds ${limits.maxEventBytes} bytes, the limit per event: trim properties or traits`,
    );
  }
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return new PathwiseError(
      'PW_ERR_INGEST_BODY',
      `body could not be decompressed (${(err as Error).message})`,
    );
  }
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new PathwiseError('PW_ERR_INGEST_BODY', (err as Error).message);
  }
  const status = (err as { statusCode?: number }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new PathwiseError('PW_ERR_QUERY_INVALID', (err as Error).message);
  }
  return new PathwiseError('PW_ERR_INTERNAL', err instanceof Error ? err.message : String(err), {
    cause: err,
  });
};
