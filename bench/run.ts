import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runImport } from './import.js';
import { assertAll2xx, checkAppend, runIngest, verifyIngest, type IngestOptions } from './ingest-http.js';
import { runLatency } from './latency.js';
import { formatProfile, newestProfile, summariseProfile } from './profile.js';
import { formatSummary, type Results } from './report.js';
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
import { createWorkspace, removeAllWorkspaces, type Workspace } from './workspace.js';

/**
 * `npm run bench [-- --quick] [-- --only ingest,import,latency] [-- --profile]`: the figures Pathwise
 * reports, each beside its baseline measured in the same run. See bench/README.md.
 */

const FIGURES = ['ingest', 'import', 'latency'] as const;
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

const profileRun = async (ws: Workspace): Promise<void> => {
  const dir = join(OUT, `prof-${runTag}`);
  mkdirSync(dir, { recursive: true });
  log(`profile: pathwise serve under --cpu-prof, ${seconds} s batch run (not a reported figure)`);
  await withServer(
    () => startPathwise({ config: ws.config, db: ws.db('profile'), cpuProfDir: dir }),
    (s) => runIngest(s, { ...settings, seed: 2, runTag: `${runTag}p` }),
  );
  const file = newestProfile(dir);
  if (file === undefined) throw new Error(`no .cpuprofile written in ${dir} (did the server exit cleanly?)`);
  results.profile = summariseProfile(file);
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

const steps: Array<[Figure | 'profile', (ws: Workspace) => Promise<void>]> = [
  ['ingest', ingestFigure],
  ['import', importFigure],
  ['latency', latencyFigure],
];
if (settings.profile) steps.push(['profile', profileRun]);

let exitCode = 0;
for (const [name, step] of steps) {
  if (name !== 'profile' && !wants(name)) continue;
  const ws = createWorkspace(sync === undefined ? {} : { synchronous: sync });
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
process.stdout.write(`\nresults: bench/out/results.json\n`);
process.exit(exitCode);
