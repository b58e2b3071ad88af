import { pino, type Logger } from 'pino';
import type { PathwiseConfig } from './config/schema.js';
import { INTERNAL_SOURCE, type Clock } from './domain/index.js';
import { PathwiseError } from './errors.js';
import type { Store } from './store/store.js';
import { openSqliteStore } from './store/sqlite/index.js';
import { ProfileQueries, ProfileService, SegmentRefresher } from './profiles/index.js';
import { IngestService } from './ingest/index.js';
import { ServerMetrics } from './server/index.js';
import type { Keys } from './server/index.js';
import { buildServer } from './server/index.js';
import type { FastifyInstance } from 'fastify';
import { systemClock } from './util/system-clock.js';
import { newId } from './util/ids.js';

/** Everything one Pathwise process runs, wired together (the composition root; adapters are chosen here). */
export interface Runtime {
  config: PathwiseConfig;
  store: Store;
  profiles: ProfileService;
  queries: ProfileQueries;
  /** Re-evaluates segments of silent customers; `serve` starts it, one-shot commands do not. */
  refresher: SegmentRefresher;
  ingest: IngestService;
  metrics: ServerMetrics;
  logger: Logger;
  keys: Keys;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  config: PathwiseConfig;
  db: string;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  clock?: Clock;
}

/**
 * Write keys from config `sources:` plus `PATHWISE_WRITE_KEYS` (comma-separated; `name:key` names the source,
 * a bare key gets the source name `env-N`). The admin key from `PATHWISE_ADMIN_KEY` overrides the config's.
 */
export const collectKeys = (config: PathwiseConfig, env: NodeJS.ProcessEnv): Keys => {
  const writeKeys = new Map<string, string>(config.sources.map((s) => [s.writeKey, s.name]));
  (env.PATHWISE_WRITE_KEYS ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '')
    .forEach((entry, i) => {
      const colon = entry.indexOf(':');
      const name = colon > 0 ? entry.slice(0, colon) : `env-${i + 1}`;
      if (!/^[A-Za-z0-9_.-]+$/.test(name) || name === INTERNAL_SOURCE) {
        throw new PathwiseError(
          'PW_ERR_CONFIG_INVALID',
          `PATHWISE_WRITE_KEYS: source name "${name}" must use letters, digits, _ . - and not be "${INTERNAL_SOURCE}"`,
        );
      }
      writeKeys.set(colon > 0 ? entry.slice(colon + 1) : entry, name);
    });
  const adminKey = env.PATHWISE_ADMIN_KEY?.trim() || config.admin?.key;
  return { writeKeys, adminKey };
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** PATHWISE_LOG_LEVEL, checked so a typo is a clear error rather than pino's internal one. */
export const logLevel = (env: NodeJS.ProcessEnv): string => {
  const level = env.PATHWISE_LOG_LEVEL?.trim().toLowerCase() || 'info';
  if (!LOG_LEVELS.includes(level)) {
    throw new PathwiseError(
      'PW_ERR_CONFIG_INVALID',
      `PATHWISE_LOG_LEVEL "${level}" is not one of ${LOG_LEVELS.join(', ')}`,
    );
  }
  return level;
};

export const openRuntime = async (opts: RuntimeOptions): Promise<Runtime> => {
  const { config } = opts;
  const clock = opts.clock ?? systemClock;
  const env = opts.env ?? process.env;
  // Everything that can refuse bad input runs before the store is opened, so a refusal leaves nothing open.
  const logger = opts.logger ?? pino({ level: logLevel(env) });
  const keys = collectKeys(config, env);
  const store = await openSqliteStore({ file: opts.db, synchronous: config.storage.synchronous });
  try {
    await store.migrate();
  } catch (err) {
    await store.close();
    throw err;
  }
  const now = () => clock.now();
  const settings = {
    identity: config.identity,
    computedTraits: config.computedTraits,
    segments: config.segments,
  };
  const profiles = new ProfileService(settings, { newId, now });
  const metrics = new ServerMetrics();
  const ingest = new IngestService(config, { store, profiles, now, newId, metrics });
  const queries = new ProfileQueries(store.read, settings, now);
  const refresher = new SegmentRefresher(store, profiles, {
    intervalMs: config.segments.length === 0 ? 0 : config.segmentRefresh.interval,
    batchSize: config.segmentRefresh.batchSize,
    onError: (err) => logger.error({ err }, 'segment refresh failed; will retry at the next interval'),
  });
  return {
    config,
    store,
    profiles,
    queries,
    refresher,
    ingest,
    metrics,
    logger,
    keys,
    close: async () => {
      await refresher.stop();
      await store.close();
    },
  };
};

/** The HTTP server over a runtime's services (not listening yet). */
export const serverFor = (rt: Runtime): FastifyInstance =>
  buildServer({
    ingest: rt.ingest,
    profiles: rt.queries,
    reader: rt.store.read,
    keys: rt.keys,
    metrics: rt.metrics,
    logger: rt.logger,
    limits: rt.config.ingest,
  });
