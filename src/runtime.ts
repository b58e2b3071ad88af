import { readFileSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import type { PathwiseConfig } from './config/schema.js';
import { INTERNAL_SOURCE, type Channel, type Clock } from './domain/index.js';
import { PathwiseError } from './errors.js';
import type { Store } from './store/store.js';
import { openSqliteStore } from './store/sqlite/index.js';
import { PrivacyService, ProfileQueries, ProfileService, SegmentRefresher } from './profiles/index.js';
import { IngestService } from './ingest/index.js';
import { ServerMetrics } from './server/index.js';
import type { Keys, ReloadResult } from './server/index.js';
import { buildServer } from './server/index.js';
import type { FastifyInstance } from 'fastify';
import { systemClock } from './util/system-clock.js';
import { newId } from './util/ids.js';
import { randomSeed } from './util/seed.js';
import { seededRng } from './learn/index.js';
import {
  DecisionService,
  LAST_GOAL_TRAIT,
  Learner,
  OutcomeService,
  EmailLinks,
  EngineLoop,
  onEventApplied,
  Oversight,
  type DecisionSettings,
} from './orchestrate/index.js';
import { checkActionTemplates, emailLinkSecret, openChannels, type ChannelEntry } from './channels/index.js';
import { dirname } from 'node:path';
import { parseConfig } from './config/index.js';
import type { ComputedTraitConfig } from './config/index.js';

/** Everything one Pathwise process runs, wired together (the composition root; adapters are chosen here). */
export interface Runtime {
  config: PathwiseConfig;
  store: Store;
  profiles: ProfileService;
  queries: ProfileQueries;
  /** Erasure and export of one customer's data (docs/privacy.md). */
  privacy: PrivacyService;
  /** Re-evaluates segments of silent customers; `serve` starts it, one-shot commands do not. */
  refresher: SegmentRefresher;
  ingest: IngestService;
  decisions: DecisionService;
  outcomes: OutcomeService;
  learner: Learner;
  oversight: Oversight;
  links: EmailLinks;
  /** Fires due timers and delivers due messages; `serve` starts it, tests drive it with runOnce(). */
  loop: EngineLoop;
  metrics: ServerMetrics;
  logger: Logger;
  keys: Keys;
  /**
   * Validates new config text and, when it is valid, swaps in its decisioning sections (goal, placements,
   * actions, policy, holdout, exploration). A config with any error is refused as a whole: the running
   * config stays. Returns the issues, or which changed sections need a restart to apply.
   */
  /** Re-reads the config file (SIGHUP, `POST /v1/admin/config/reload`) and applies it like `reconfigure`. */
  reloadConfig(): Promise<ReloadResult>;
  /** Starts the background sweeps `serve` runs (segment refresh, settling decisions whose window ended). */
  startBackground(): void;
  reconfigure(text: string): Promise<ReloadResult>;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  config: PathwiseConfig;
  db: string;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  clock?: Clock;
  /** The config file, when the config came from one: `reloadConfig()` re-reads it. */
  configFile?: string;
  /**
   * Whether to open the delivery channels (and check their templates). One-shot commands like `import`
   * deliver nothing, so they need neither the SMTP settings nor the channel secrets.
   */
  channels?: boolean;
  /** Seeds the decision engine's randomness (tests); a random seed otherwise. */
  seed?: number;
}

/** When a goal is set, every profile keeps the time it was last reached (for the conversion cool-down). */
const withGoalTrait = (config: PathwiseConfig): ComputedTraitConfig[] =>
  config.goal === undefined || config.computedTraits.some((c) => c.name === LAST_GOAL_TRAIT)
    ? config.computedTraits
    : [...config.computedTraits, { name: LAST_GOAL_TRAIT, kind: 'last', event: config.goal.event }];

const decisionSettings = (config: PathwiseConfig): DecisionSettings => ({
  goal: config.goal,
  actions: config.actions,
  placements: config.placements,
  policy: config.policy,
  holdout: config.holdout,
  exploration: config.exploration,
  model: config.model,
  computedTraits: withGoalTrait(config),
  channels: config.channels,
});

/** Sections that only apply at start. */
const RESTART_SECTIONS = [
  'sources',
  'admin',
  'identity',
  'trackingPlan',
  'computedTraits',
  'segments',
  'segmentRefresh',
  'ingest',
  'storage',
  'model',
  'channels',
] as const;

/** How often the engine looks for due timers and deliveries: a pause stops sends well within a second. */
const LOOP_INTERVAL_MS = 200;

/** How often decisions whose attribution window ended are settled (zero or engagement reward). */
const OUTCOME_SWEEP_MS = 30_000;

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
  const configDir = opts.configFile === undefined ? process.cwd() : dirname(opts.configFile);
  const delivering = opts.channels ?? true;
  const templateProblems = delivering
    ? await checkActionTemplates(config.actions, config.channels, configDir)
    : [];
  if (templateProblems.length > 0) {
    throw new PathwiseError('PW_ERR_CONFIG_INVALID', `templates: ${templateProblems.join('; ')}`);
  }
  const channels = delivering
    ? openChannels(config.channels, { env, configDir, now: () => clock.now() })
    : new Map<Channel, ChannelEntry>();
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
    computedTraits: withGoalTrait(config),
    segments: config.segments,
  };
  const profiles = new ProfileService(settings, { newId, now });
  const metrics = new ServerMetrics();
  let learner: Learner;
  try {
    learner = await Learner.open(store, config.model, {
      snapshotEvery: 1000,
      now,
      onLearned: (n) => metrics.modelUpdates(n),
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  const rng = seededRng(opts.seed ?? randomSeed());
  const decisions = new DecisionService(decisionSettings(config), {
    store,
    profiles,
    learner,
    now,
    newId,
    rng,
    onDecision: (d) => metrics.decision(d.mode, d.actionId),
  });
  const outcomes = new OutcomeService(config.goal, { store, learner, now, newId });
  const oversight = new Oversight({ store, decisions, now, newId });
  await oversight.load();
  let current = config;
  const loop = new EngineLoop({
    store,
    decisions,
    channels,
    computedTraits: () => current.computedTraits,
    now,
    newId,
    random: () => rng.next(),
    onError: (err, what) => logger.error({ err }, `${what} failed; will retry`),
    intervalMs: LOOP_INTERVAL_MS,
  });
  const catchUp = () =>
    void learner.catchUp().catch((err: unknown) => logger.error({ err }, 'model update failed; will retry'));
  const ingest = new IngestService(config, {
    store,
    profiles,
    now,
    newId,
    metrics,
    hooks: {
      afterApply: (w, event, applied) =>
        onEventApplied(w, event, applied, {
          goal: current.goal,
          catalog: decisions.current,
          now: now(),
          newId,
        }),
      resolved: catchUp,
    },
  });
  const links = new EmailLinks({
    secret:
      config.channels.email === undefined || !delivering
        ? undefined
        : emailLinkSecret(config.channels.email, env),
    ingest,
    store,
    consentTrait: () => current.policy.consent.trait,
  });
  const queries = new ProfileQueries(store.read, settings, now);
  const privacy = new PrivacyService({
    store,
    queries,
    now,
    newId,
    identifiers: () => config.identity.identifiers,
    computedTraits: () => settings.computedTraits,
    consentTrait: () => current.policy.consent.trait,
  });
  const refresher = new SegmentRefresher(store, profiles, {
    intervalMs: config.segments.length === 0 ? 0 : config.segmentRefresh.interval,
    batchSize: config.segmentRefresh.batchSize,
    onError: (err) => logger.error({ err }, 'segment refresh failed; will retry at the next interval'),
  });
  const reconfigure = async (text: string): Promise<ReloadResult> => {
    const parsed = parseConfig(text);
    if (!parsed.ok) return { ok: false, issues: parsed.issues };
    const next = parsed.config;
    // The new actions' templates, with the channels running now (a channel change applies at restart).
    const problems = delivering ? await checkActionTemplates(next.actions, current.channels, configDir) : [];
    if (problems.length > 0) {
      return {
        ok: false,
        issues: problems.map((p) => {
          const colon = p.indexOf(': ');
          return { path: p.slice(0, colon), message: p.slice(colon + 2) };
        }),
      };
    }
    const restartNeeded = RESTART_SECTIONS.filter(
      (k) => JSON.stringify(next[k]) !== JSON.stringify(current[k]),
    ).map(String);
    // The model's settings shape its weights: a change applies at the next start, so keep the running ones.
    decisions.reconfigure({
      ...decisionSettings(next),
      model: current.model,
      computedTraits: withGoalTrait(current),
      channels: current.channels,
    });
    outcomes.reconfigure(next.goal);
    current = {
      ...next,
      model: current.model,
      computedTraits: current.computedTraits,
      channels: current.channels,
    };
    return { ok: true, restartNeeded };
  };
  return {
    config,
    store,
    profiles,
    queries,
    privacy,
    refresher,
    ingest,
    decisions,
    outcomes,
    learner,
    oversight,
    links,
    loop,
    metrics,
    logger,
    keys,
    startBackground: () => {
      refresher.start();
      loop.start();
      outcomes.start(OUTCOME_SWEEP_MS, (err) =>
        logger.error({ err }, 'settling expired decisions failed; will retry at the next interval'),
      );
    },
    reconfigure,
    reloadConfig: async () => {
      if (opts.configFile === undefined) {
        return {
          ok: false,
          issues: [{ path: '', message: 'this server was not started from a config file' }],
        };
      }
      let text: string;
      try {
        text = readFileSync(opts.configFile, 'utf8');
      } catch (err) {
        return {
          ok: false,
          issues: [{ path: '', message: `cannot read ${opts.configFile}: ${(err as Error).message}` }],
        };
      }
      return reconfigure(text);
    },
    close: async () => {
      await refresher.stop();
      await loop.stop();
      await outcomes.stop();
      try {
        await learner.snapshot();
      } finally {
        await store.close();
      }
    },
  };
};

/** The HTTP server over a runtime's services (not listening yet). */
export const serverFor = (rt: Runtime): FastifyInstance =>
  buildServer({
    ingest: rt.ingest,
    decisions: rt.decisions,
    outcomes: rt.outcomes,
    oversight: rt.oversight,
    links: rt.links,
    profiles: rt.queries,
    privacy: rt.privacy,
    reader: rt.store.read,
    keys: rt.keys,
    metrics: rt.metrics,
    logger: rt.logger,
    limits: rt.config.ingest,
    reloadConfig: () => rt.reloadConfig(),
  });
