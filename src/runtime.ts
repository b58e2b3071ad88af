import { pino, type Logger } from 'pino';
import type { PathwiseConfig } from './config/schema.js';
import type { Clock } from './domain/index.js';
import type { Store } from './store/store.js';
import { openSqliteStore } from './store/sqlite/index.js';
import { ProfileQueries, ProfileService } from './profiles/index.js';
import { IngestService } from './ingest/service.js';
import { ServerMetrics } from './server/metrics.js';
import type { Keys } from './server/auth.js';
import { systemClock } from './util/system-clock.js';
import { newId } from './util/ids.js';

/** Everything one Pathwise process runs, wired together (the composition root; adapters are chosen here). */
export interface Runtime {
  config: PathwiseConfig;
  store: Store;
  profiles: ProfileService;
  queries: ProfileQueries;
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
      if (colon > 0) writeKeys.set(entry.slice(colon + 1), entry.slice(0, colon));
      else writeKeys.set(entry, `env-${i + 1}`);
    });
  const adminKey = env.PATHWISE_ADMIN_KEY?.trim() || config.admin?.key;
  return { writeKeys, adminKey };
};

export const openRuntime = async (opts: RuntimeOptions): Promise<Runtime> => {
  const { config } = opts;
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? pino({ level: process.env.PATHWISE_LOG_LEVEL ?? 'info' });
  const store = await openSqliteStore({ file: opts.db, synchronous: config.storage.synchronous });
  await store.migrate();
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
  return {
    config,
    store,
    profiles,
    queries,
    ingest,
    metrics,
    logger,
    keys: collectKeys(config, opts.env ?? process.env),
    close: () => store.close(),
  };
};
