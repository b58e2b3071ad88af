import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { runDecide, type DecideFigure } from './decide.js';
import { checkDecideStore, runDecideHttp } from './decide-http.js';
import { createDecideWorkspace } from './decide-workspace.js';
import { runEvaluate } from './evaluate.js';
import { runImport } from './import.js';
import { assertAll2xx, checkAppend, runIngest, verifyIngest, type IngestOptions } from './ingest-http.js';
import { runLatency } from './latency.js';
import { loopStages, profileLoop, runLoopFigure, TARGET_EVENTS_PER_SEC } from './loop.js';
import { formatProfile, summariseProfile, type ProfileSummary } from './profile.js';
import { formatLoopStages, formatSummary, type Results } from './report.js';
import { countStore } from './import.js';
import {
  killAllChildren,
  ROOT,
  startAppend,
  startBare,
  startPathwise,
  stopChild,
  type Server,
} from './servers.js';
import { runTimers } from './timers.js';
import { createWorkspace, removeAllWorkspaces, type Workspace } from './workspace.js';

/**
 * `npm run bench [-- --quick] [-- --only ingest,import,latency,decide,decide-http,loop,timers,evaluate] [-- --profile]`: the
 * figures Pathwise reports, each beside its baseline measured in the same run. See bench/README.md.
 */

const FIGURES = [
  'ingest',
  'import',
  'latency',
  'decide',
  'decide-http',
  'loop',
  'timers',
  'evaluate',
] as const;
type Figure = (typeof FIGURES)[number];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    connections: { type: 'string' },
    duration: { type: 'string' },
    sync: { type: 'string' },
  },
});
const quick = values.quick ?? false;
const only = (values.only ?? FIGURES.join(',')).split(',').map((s) => s.trim());
for (const f of only) {
  if (!(FIGURES as readonly string[]).includes(f))
    throw new Error(`--only: unknown figure "${f}"; use ${FIGURES.join('|')}`);
}
const wants = (f: Figure) => only.includes(f);

const sync = values.sync;
if (sync !== undefined && sync !== 'full' && sync !== 'normal') throw new Error('--sync: use full or normal');
const seconds = values.duration === undefined ? (quick ? 5 : 20) : Number(values.duration);
const settings = {
  seconds,
  warmupSeconds: quick ? 2 : 3,
  connections: values.connections === undefined ? 16 : Number(values.connections),
  eventsPerBatch: 100,
  importEvents: quick ? 100_000 : 1_000_000,
  latencyRate: 500,
  /** Figure decide: the headline run in seconds (breakdown and each propensitySamples variant: half). */
  decideSeconds: quick ? 2 : 5,
  decideRate: 1000,
  decideUsers: 10_000,
  decideActions: 10,
  /** Figure loop: the closed-loop run holds ingest back while the loop lags more than this, s. */
  loopLagBound: 2,
  loopTarget: TARGET_EVENTS_PER_SEC,
  /** Figure timers: pending timers inserted, and the longest the firing phase runs, s. */
  timers: quick ? 200_000 : 1_000_000,
  timerFireSeconds: quick ? 10 : 30,
  /** Figure evaluate: rows of the generated log (50 actions). */
  evaluateRows: quick ? 100_000 : 1_000_000,
  profile: values.profile ?? false,
  synchronous: sync ?? 'default (full)',
};
const runTag = Date.now().toString(36).slice(-6);
const OUT = join(ROOT, 'bench/out');

// Children and temp dirs go whatever happens: normal end, error, Ctrl-C, or the overall time limit.
process.on('exit', () => {
  killAllChildren();
  removeAllWorkspaces();
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
const limitMinutes = quick ? 8 : 25;
setTimeout(() => {
  process.stderr.write(`bench: overall time limit of ${limitMinutes} min reached; stopping\n`);
  process.exit(1);
}, limitMinutes * 60_000).unref();

const log = (msg: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

/** When dist/ (what the benchmarks run) was last built: src/ changes only count once rebuilt. */
const distBuiltAt = (): string => {
  const dist = join(ROOT, 'dist');
  const newest = readdirSync(dist, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.js'))
    .reduce((t, f) => Math.max(t, statSync(join(dist, f)).mtimeMs), 0);
  return new Date(newest).toISOString();
};

const results: Results = {
  machine: {
    cpus: cpus().length,
    model: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: platform(),
    release: release(),
    memoryGb: Math.round(totalmem() / 2 ** 30),
    loadAtStart: loadavg(),
    distBuiltAt: distBuiltAt(),
  },
  mode: quick ? 'quick' : 'full',
  startedAt: new Date().toISOString(),
  settings,
  failures: [],
};

const withServer = async <T>(start: () => Promise<Server>, fn: (s: Server) => Promise<T>): Promise<T> => {
  const server = await start();
  try {
    return await fn(server);
  } finally {
    if (!(await stopChild(server.child))) log(`${server.child.name} ignored SIGTERM; killed`);
  }
};

const ingestFigure = async (ws: Workspace): Promise<void> => {
  const opts: IngestOptions = { ...settings, seed: 1, runTag };
  log(
    `ingest: bare fastify route, ${settings.warmupSeconds}+${seconds} s, ${settings.connections} connections`,
  );
  const bare = await withServer(startBare, (s) => runIngest(s, { ...opts, runTag: `${runTag}b` }));
  assertAll2xx('bare /v1/batch', bare.load);
  log(`ingest: bare ${Math.round(bare.eventsPerSec)} events/s; now pathwise serve`);
  const db = ws.db('ingest');
  const { pathwise, verification } = await withServer(
    () => startPathwise({ config: ws.config, db }),
    async (s) => {
      const run = await runIngest(s, opts);
      return { pathwise: run, verification: await verifyIngest(s.url, run, settings.eventsPerBatch) };
    },
  );
  const stored = countStore(db);
  log(`ingest: pathwise ${Math.round(pathwise.eventsPerSec)} events/s; now the durable SQLite append`);
  const appendDb = ws.db('append');
  const append = await withServer(
    () => startAppend(appendDb),
    (s) => runIngest(s, { ...opts, runTag: `${runTag}a` }),
  );
  const appendCheck = checkAppend(appendDb, append, settings.eventsPerBatch);
  results.ingest = { pathwise, bare, append, appendCheck, verification, stored };
  log(`ingest: durable append ${Math.round(append.eventsPerSec)} events/s`);
  assertAll2xx('pathwise /v1/batch', pathwise.load);
  assertAll2xx('pathwise /v1/batch warm-up', pathwise.warmup);
  if (!verification.ok || stored.events !== verification.counts.accepted) {
    throw new Error(`pathwise ingest counts do not add up: ${JSON.stringify({ ...verification, stored })}`);
  }
  assertAll2xx('durable append /v1/batch', append.load);
  if (!appendCheck.ok) throw new Error(`durable append rows do not add up: ${JSON.stringify(appendCheck)}`);
};

/**
 * The main thread's profile in `dir`: a process with worker threads (the server's, tsx's loader) writes one
 * file per thread, and the main thread's is by far the largest.
 */
const largestProfile = (dir: string): string => {
  const largest = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).size - statSync(a).size)[0];
  if (largest === undefined)
    throw new Error(`no .cpuprofile written in ${dir} (did the process exit cleanly?)`);
  return largest;
};

const profileRun = async (ws: Workspace): Promise<void> => {
  const dir = join(OUT, `prof-${runTag}`);
  mkdirSync(dir, { recursive: true });
  log(`profile: pathwise serve under --cpu-prof, ${seconds} s batch run (not a reported figure)`);
  await withServer(
    () => startPathwise({ config: ws.config, db: ws.db('profile'), cpuProfDir: dir }),
    (s) => runIngest(s, { ...settings, seed: 2, runTag: `${runTag}p` }),
  );
  results.profile = summariseProfile(largestProfile(dir));
};

const importFigure = async (ws: Workspace): Promise<void> => {
  log(
    `import: generating ${settings.importEvents.toLocaleString('en-US')} events, then parse baseline and pathwise import`,
  );
  results.import = await runImport(ws, {
    events: settings.importEvents,
    seed: 3,
    runTag: `${runTag}i`,
    timeoutMs: (quick ? 3 : 10) * 60_000,
  });
  if (!results.import.ok)
    throw new Error(
      `import stored ${JSON.stringify(results.import.stored)}, expected ${settings.importEvents} events`,
    );
};

const latencyFigure = async (ws: Workspace): Promise<void> => {
  const opts = { rate: settings.latencyRate, seconds, warmupSeconds: settings.warmupSeconds, seed: 4 };
  log(
    `latency: /v1/track at ${opts.rate}/s, bare then pathwise (autocannon ${seconds} s, then open loop ${seconds} s)`,
  );
  const bare = await withServer(startBare, (s) => runLatency(s, { ...opts, runTag: `${runTag}c` }));
  const pathwise = await withServer(
    () => startPathwise({ config: ws.config, db: ws.db('latency') }),
    (s) => runLatency(s, { ...opts, runTag: `${runTag}l` }),
  );
  results.latency = { rate: opts.rate, pathwise, bare };
  const bad =
    pathwise.autocannon.non2xx +
    pathwise.autocannon.errors +
    pathwise.openLoop.non2xx +
    pathwise.openLoop.errors;
  if (bad > 0) throw new Error(`pathwise /v1/track: ${bad} failed requests at ${opts.rate}/s`);
};

/** With --profile, the decide child once more under --cpu-prof (tsx's loader thread writes its own file). */
const decideProfile = async (ws: Workspace): Promise<ProfileSummary> => {
  const dir = join(OUT, `prof-decide-${runTag}`);
  mkdirSync(dir, { recursive: true });
  log(`decide: once more under --cpu-prof (${settings.decideSeconds} s; not a reported figure)`);
  await runDecide({ dir: ws.dir, seconds: settings.decideSeconds, warmupSeconds: 1, cpuProfDir: dir });
  return summariseProfile(largestProfile(dir), 15);
};

const decideFigure = async (ws: Workspace): Promise<void> => {
  log(
    `decide: in process, one core: ${settings.warmupSeconds} s warm-up, ${settings.decideSeconds} s at 64 samples, ` +
      `then the breakdown and 16 / 256 samples`,
  );
  const d: DecideFigure = await runDecide({
    dir: ws.dir,
    seconds: settings.decideSeconds,
    warmupSeconds: settings.warmupSeconds,
  });
  results.decide = d;
  log(`decide: ${Math.round(d.main.perSec)} decisions/s, ${d.main.usPerDecision.toFixed(1)} µs each`);
  if (settings.profile) results.decideProfile = await decideProfile(ws);
  const bad = Object.keys(d.modes).filter((m) => m !== 'exploit' && m !== 'explore');
  if (bad.length > 0) throw new Error(`decide: decisions skipped scoring (modes ${bad.join(', ')})`);
};

const decideHttpFigure = async (ws: Workspace): Promise<void> => {
  const opts = {
    rate: settings.decideRate,
    seconds,
    warmupSeconds: settings.warmupSeconds,
    users: settings.decideUsers,
    seed: 5,
  };
  log(
    `decide-http: POST /v1/decide at ${opts.rate}/s open loop, ${opts.warmupSeconds}+${seconds} s, bare then pathwise`,
  );
  const bare = await withServer(startBare, (s) => runDecideHttp(s, { ...opts, runTag: `${runTag}d` }));
  const db = ws.db('decide');
  const pathwise = await withServer(
    () => startPathwise({ config: ws.config, db }),
    (s) => runDecideHttp(s, { ...opts, runTag: `${runTag}e` }),
  );
  const store = checkDecideStore(db, pathwise);
  results.decideHttp = {
    rate: opts.rate,
    users: opts.users,
    actions: settings.decideActions,
    pathwise,
    bare,
    store,
  };
  const p = pathwise.load;
  log(
    `decide-http: p99 ${p.fromSchedule.p99.toFixed(2)} ms (bare ${bare.load.fromSchedule.p99.toFixed(2)} ms)`,
  );
  if (settings.profile) {
    // Before the checks below, so a failing run still gets its profile.
    const dir = join(OUT, `prof-decide-http-${runTag}`);
    mkdirSync(dir, { recursive: true });
    log(`decide-http: once more with pathwise serve under --cpu-prof (not a reported figure)`);
    await withServer(
      () => startPathwise({ config: ws.config, db: ws.db('decide-profile'), cpuProfDir: dir }),
      (s) => runDecideHttp(s, { ...opts, runTag: `${runTag}f` }),
    );
    results.decideHttpProfile = summariseProfile(largestProfile(dir), 15);
  }
  const failed = p.non2xx + p.errors + pathwise.warmup.non2xx + pathwise.warmup.errors;
  if (failed > 0)
    throw new Error(`pathwise /v1/decide: ${failed} failed requests ${JSON.stringify(p.statusCodes)}`);
  if (!store.ok) throw new Error(`pathwise /v1/decide: the store does not add up ${JSON.stringify(store)}`);
};

const loopFigure = async (ws: Workspace): Promise<void> => {
  const opts = {
    ws,
    seconds,
    warmupSeconds: settings.warmupSeconds,
    connections: settings.connections,
    lagBound: settings.loopLagBound,
    seed: 6,
    log,
  };
  log(
    `loop: ingest-only baseline, then the loop closed (lag bound ${opts.lagBound} s), paced at ` +
      `${settings.loopTarget}/s, and (if that falls behind) paced at 80% of the sustainable rate; ${opts.warmupSeconds}+${seconds} s each`,
  );
  const figure = await runLoopFigure({ ...opts, runTag: `${runTag}o` });
  results.loop = figure;
  if (settings.profile) {
    // Before the checks below, so a failing run still gets its profile.
    const dir = join(OUT, `prof-loop-${runTag}`);
    mkdirSync(dir, { recursive: true });
    log(`loop: the closed-loop run once more with pathwise serve under --cpu-prof (not a reported figure)`);
    const run = await profileLoop({ ...opts, runTag: `${runTag}q`, cpuProfDir: dir });
    const file = largestProfile(dir);
    const [from, to] = run.profileWindowMs ?? [0, Infinity];
    results.loopProfile = summariseProfile(file, 15);
    results.loopStages = loopStages(file, from, to, (f) => readFileSync(f, 'utf8'));
  }
  const bad = [figure.baseline, figure.sustainable, figure.atTarget, figure.belowTarget]
    .filter((r) => r !== undefined)
    .map((r) => ({ kind: r.kind, failed: r.load.non2xx + r.load.errors + r.warmup.non2xx + r.warmup.errors }))
    .filter((r) => r.failed > 0);
  if (bad.length > 0) throw new Error(`loop: failed /v1/batch requests ${JSON.stringify(bad)}`);
  if (figure.sustainable.tracker.deliveries === 0)
    throw new Error('loop: no webhook arrived at the receiver (is dist/ built with the engine loop?)');
  if (figure.sustainable.tracker.unmatched > 0)
    throw new Error(`loop: ${figure.sustainable.tracker.unmatched} webhooks named no event the bench sent`);
};

const timersFigure = async (ws: Workspace): Promise<void> => {
  log(
    `timers: ${settings.timers.toLocaleString('en-US')} timers inserted, then fired for up to ${settings.timerFireSeconds} s: ` +
      `bare table, bare table with the store's schema, then the store`,
  );
  const t = await runTimers({
    dir: ws.dir,
    timers: settings.timers,
    fireSeconds: settings.timerFireSeconds,
    log,
  });
  results.timers = t;
  const wrong = Object.values(t.runs).filter(
    (r) => r.fired + r.left !== t.timers || r.insert.rows !== t.timers,
  );
  if (wrong.length > 0)
    throw new Error(`timers: fired + left != inserted for ${wrong.map((r) => r.mode).join(', ')}`);
};

const evaluateFigure = async (ws: Workspace): Promise<void> => {
  log(
    `evaluate: generating ${settings.evaluateRows.toLocaleString('en-US')} logged rows (50 actions), then csv-parse ` +
      `alone and pathwise evaluate plain, --learn split and --learn replay`,
  );
  results.evaluate = await runEvaluate({
    dir: ws.dir,
    rows: settings.evaluateRows,
    seed: 8,
    timeoutMs: (quick ? 2 : 5) * 60_000,
    log,
  });
};

const newWorkspace = () => createWorkspace(sync === undefined ? {} : { synchronous: sync });

const steps: Array<[Figure | 'profile', (ws: Workspace) => Promise<void>, () => Workspace]> = [
  ['ingest', ingestFigure, newWorkspace],
  ['import', importFigure, newWorkspace],
  ['latency', latencyFigure, newWorkspace],
  ['decide', decideFigure, newWorkspace],
  ['decide-http', decideHttpFigure, () => createDecideWorkspace(settings.decideActions)],
  ['loop', loopFigure, newWorkspace],
  ['timers', timersFigure, newWorkspace],
  ['evaluate', evaluateFigure, newWorkspace],
];
// The batch run's profile comes with ingest (or alone); the decide and loop figures profile their own runs.
if (settings.profile && (wants('ingest') || !(wants('decide') || wants('decide-http') || wants('loop'))))
  steps.push(['profile', profileRun, newWorkspace]);

let exitCode = 0;
for (const [name, step, workspace] of steps) {
  if (name !== 'profile' && !wants(name)) continue;
  const ws = workspace();
  try {
    await step(ws);
  } catch (err) {
    exitCode = 1;
    const message = err instanceof Error ? err.message : String(err);
    results.failures.push(`${name}: ${message}`);
    log(`${name} FAILED: ${message}`);
  } finally {
    ws.remove();
  }
}

results.machine.distRebuiltDuringRun = distBuiltAt() !== results.machine.distBuiltAt;
mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`\n${formatSummary(results)}\n`);
if (results.profile) process.stdout.write(`\n${formatProfile(results.profile)}\n`);
/** formatProfile's first line names the batch run: retitled for the decide profiles. */
const retitled = (p: ProfileSummary, title: string) =>
  formatProfile(p).replace(/^.*\n/, `${title}: ${relative(ROOT, p.file)}\n`);
if (results.decideProfile)
  process.stdout.write(
    `\n${retitled(results.decideProfile, 'CPU profile of the in-process decide figure (bench/decide.ts child)')}\n`,
  );
if (results.decideHttpProfile)
  process.stdout.write(
    `\n${retitled(results.decideHttpProfile, 'CPU profile of the Pathwise server during the /v1/decide run')}\n`,
  );
if (results.loopStages) process.stdout.write(`\n${formatLoopStages(results.loopStages)}\n`);
if (results.loopProfile)
  process.stdout.write(
    `\n${retitled(results.loopProfile, 'CPU profile of the Pathwise server during the closed-loop orchestration run')}\n`,
  );
process.stdout.write(`\nresults: bench/out/results.json\n`);
process.exit(exitCode);
