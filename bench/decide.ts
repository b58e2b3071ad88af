import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type * as ConfigLib from '../src/config/index.js';
import type * as DecideLib from '../src/decide/index.js';
import type * as DomainLib from '../src/domain/index.js';
import type * as LearnLib from '../src/learn/index.js';
import type { ContactHistory } from '../src/decide/index.js';
import type { SparseFeatures } from '../src/domain/index.js';
import { benchCustomer, inProcessConfigYaml, PLACEMENTS, type BenchCustomer } from './decide-workspace.js';
import { seededRng as shapeRng } from './events.js';
import { machineBusySeconds, ROOT, runToExit, spawnNode, type CpuUse } from './servers.js';

/**
 * Figure `decide`: the decision engine in process, on one core: `hashFeatures` + `decide()` as the decision
 * service calls them, for customers with ~100 active features, over a catalog whose 50 web actions all reach
 * scoring, with a trained model (logistic posteriors for every arm). It runs in a child process
 * (`node --import tsx bench/decide.ts --child …`) so the bench process's own state (autocannon, other
 * figures' garbage) does not disturb it, and it can run under `--cpu-prof`. The library code is the build
 * in dist/, like the server's: src/ changes count once rebuilt.
 */

export const ACTIONS = 50;
export const UPDATES_PER_ARM = 250;
export const SAMPLE_VARIANTS = [16, 256] as const;
const POOL = 64;

export interface DecideRun {
  propensitySamples: number;
  decisions: number;
  seconds: number;
  perSec: number;
  usPerDecision: number;
}

export interface DecideFigure {
  actions: number;
  /** Options scored per decision (the actions that survived eligibility and policy, plus doing nothing). */
  optionsScored: number;
  features: { mean: number; min: number; max: number };
  model: { arms: number; updatesPerArm: number; featureBits: number; minObservations: number };
  warmupSeconds: number;
  /** The headline run: default propensitySamples (64). */
  main: DecideRun;
  /** Same load with other propensitySamples, to show the cost of the propensity estimate. */
  variants: DecideRun[];
  /** A separate run at 64 samples with a clock read around each stage (adds ~0.1 µs per decision). */
  breakdown: { decisions: number; hashUs: number; decideUs: number; hashShare: number; decideShare: number };
  /**
   * Inside decide(), measured apart on the same inputs (so roughly): the posteriors of all options
   * (`model.posterior` + `scoreOption`, one weight-table lookup per feature and option), the Thompson
   * propensity estimate (`thompsonDistribution`: samples × options draws), and the rest of decide() by
   * difference (candidates, eligibility, policy, exploration bounds, explanation and summary).
   */
  stages: { posteriorsUs: number; thompsonUs: number; restUs: number };
  /** Decision modes over the breakdown run (exploit / explore; anything else means scoring was skipped). */
  modes: Record<string, number>;
  /** CPU during the child's life (training and warm-up included; `server` = the child), measured by the parent. */
  cpu: CpuUse;
}

type ChildResult = Omit<DecideFigure, 'cpu'>;

const dist = async <T>(path: string): Promise<T> =>
  (await import(pathToFileURL(join(ROOT, 'dist', path)).href)) as T;

/** Everything the measured loop needs, built once: config, catalog, trained model, customers, history. */
const setup = async () => {
  const config = await dist<typeof ConfigLib>('config/index.js');
  const decideLib = await dist<typeof DecideLib>('decide/index.js');
  const learn = await dist<typeof LearnLib>('learn/index.js');
  const domain = await dist<typeof DomainLib>('domain/index.js');

  const parsed = config.parseConfig(inProcessConfigYaml(ACTIONS));
  if (!parsed.ok) throw new Error(`bench decide config: ${JSON.stringify(parsed.issues)}`);
  const cfg = parsed.config;
  const catalog = decideLib.compileCatalog(cfg);
  const bits = cfg.model.featureBits;
  const start = Date.now();

  const pool: BenchCustomer[] = [];
  for (let n = 0; pool.length < POOL; n++) {
    const c = benchCustomer(n, 1, start);
    if (!decideLib.inHoldout(c.profile.id, catalog.holdout)) pool.push(c);
  }
  const history: ContactHistory = {
    sends: [
      { actionId: 'email_a', channel: 'email', at: start - 2 * 86_400_000, responded: false },
      { actionId: 'email_b', channel: 'email', at: start - 5 * 86_400_000, responded: true },
      { actionId: 'push_a', channel: 'push', at: start - 9 * 86_400_000, responded: false },
    ],
    sentToday: new Map(),
  };
  const signals = pool.map((c) => ({
    kind: 'placement' as const,
    placement: PLACEMENTS[0],
    context: c.context,
  }));
  /** What DecisionService.decideFor hashes. */
  const featuresOf = (i: number, at: number): SparseFeatures => {
    const c = pool[i] as BenchCustomer;
    return learn.hashFeatures(
      {
        traits: c.profile.traits,
        computed: c.computed,
        segments: c.profile.segments,
        context: c.context,
        at,
        timeZone: c.timeZone,
        recent: history.sends.slice(0, 20),
      },
      bits,
    );
  };

  // Train: every arm (doing nothing included) sees UPDATES_PER_ARM rewards, round robin, so the logistic
  // posteriors (not the Beta fallback) score every option.
  const model = new learn.BanditModel({
    featureBits: bits,
    priorVariance: cfg.model.priorVariance,
    minObservations: cfg.model.minObservations,
  });
  const arms = [domain.NOTHING, ...catalog.actions.map((a) => a.id)];
  const r = shapeRng(7);
  for (let u = 0; u < UPDATES_PER_ARM; u++) {
    arms.forEach((arm, k) => {
      const i = Math.floor(r() * pool.length);
      const pro = (pool[i] as BenchCustomer).profile.traits.plan === 'pro' ? 0.04 : 0;
      const reward = r() < 0.03 + 0.002 * (k % 10) + pro ? 1 : 0;
      model.update(arm, featuresOf(i, start - Math.floor(r() * 7 * 86_400_000)), reward);
    });
  }

  const catalogWith = (propensitySamples: number) => ({ ...catalog, propensitySamples });
  const rng = learn.seededRng(42);
  const ids = Array.from({ length: 1024 }, (_, i) => `bench-decision-${i}`);
  const attributionWindow = cfg.goal?.attributionWindow ?? 7 * 86_400_000;
  let seq = 0;
  /** One decision as the service makes it, for pool customer `i`. */
  const one = (cat: DecideLib.Catalog, i: number, features: SparseFeatures, now: number) => {
    const c = pool[i] as BenchCustomer;
    return decideLib.decide(
      {
        id: ids[seq++ & 1023] as string,
        profile: c.profile,
        computed: c.computed,
        signal: signals[i] as DomainLib.Signal,
        features,
        history,
      },
      { catalog: cat, model, rng, now, attributionWindow },
    );
  };

  // Check the shape once per customer: every action scored, every option on the logistic posterior.
  const counts: number[] = [];
  let optionsScored = Infinity;
  for (let i = 0; i < pool.length; i++) {
    const now = Date.now();
    const f = featuresOf(i, now);
    counts.push(f.idx.length);
    const d = one(catalog, i, f, now);
    const scored = d.explanation.candidates.filter((t) => t.score !== undefined);
    const removed = d.explanation.candidates.filter((t) => t.removed !== undefined);
    if (scored.length !== ACTIONS || removed.length > 0)
      throw new Error(
        `bench decide: ${scored.length} of ${ACTIONS} actions scored for ${pool[i]?.profile.id}: ${JSON.stringify(removed.slice(0, 3))}`,
      );
    const beta = [d.explanation.nothing, ...scored.map((t) => t.score)].filter(
      (s) => s?.model !== 'logistic',
    );
    if (beta.length > 0) throw new Error(`bench decide: ${beta.length} options not on the logistic model`);
    optionsScored = Math.min(optionsScored, scored.length + 1);
  }
  /** The options decide() scores for features `f`: doing nothing, then every action. */
  const options = (f: SparseFeatures): DecideLib.Option[] => {
    // As decide() does: every arm's posterior in one pass over the features.
    const posteriors = model.posteriors(arms, f);
    return [
      decideLib.scoreOption(null, posteriors[0] as LearnLib.ArmPosterior, {
        value: catalog.goalValue,
        weight: 1,
        cost: 0,
      }),
      ...catalog.actions.map((a, i) =>
        decideLib.scoreOption(a.id, posteriors[i + 1] as LearnLib.ArmPosterior, {
          value: a.value,
          weight: a.config.weight,
          cost: a.config.cost,
        }),
      ),
    ];
  };
  return {
    catalog,
    catalogWith,
    options,
    thompson: (o: DecideLib.Option[], samples: number) => decideLib.thompsonDistribution(o, samples, rng),
    featuresOf,
    one,
    optionsScored,
    features: {
      mean: counts.reduce((a, b) => a + b, 0) / counts.length,
      min: Math.min(...counts),
      max: Math.max(...counts),
    },
    model: {
      arms: arms.length,
      updatesPerArm: UPDATES_PER_ARM,
      featureBits: bits,
      minObservations: cfg.model.minObservations,
    },
  };
};

type Setup = Awaited<ReturnType<typeof setup>>;

let sink = 0;

/** Decisions back to back for `seconds` (the clock read once per 32 decisions). */
const measure = (s: Setup, propensitySamples: number, seconds: number): DecideRun => {
  const cat = s.catalogWith(propensitySamples);
  let n = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let t = t0;
  do {
    for (let k = 0; k < 32; k++, n++) {
      const i = n & (POOL - 1);
      const now = Date.now();
      sink += s.one(cat, i, s.featuresOf(i, now), now).propensity;
    }
    t = performance.now();
  } while (t < end);
  const secs = (t - t0) / 1000;
  return {
    propensitySamples,
    decisions: n,
    seconds: secs,
    perSec: n / secs,
    usPerDecision: (secs * 1e6) / n,
  };
};

/** The same loop with the clock read around each stage: where a decision's time goes. */
const breakdown = (s: Setup, seconds: number) => {
  const cat = s.catalogWith(s.catalog.propensitySamples);
  const modes: Record<string, number> = {};
  let hash = 0;
  let dec = 0;
  let n = 0;
  const end = performance.now() + seconds * 1000;
  for (let t2 = 0; t2 < end; n++) {
    const i = n & (POOL - 1);
    const now = Date.now();
    const t0 = performance.now();
    const f = s.featuresOf(i, now);
    const t1 = performance.now();
    const d = s.one(cat, i, f, now);
    t2 = performance.now();
    hash += t1 - t0;
    dec += t2 - t1;
    modes[d.mode] = (modes[d.mode] ?? 0) + 1;
  }
  return {
    result: {
      decisions: n,
      hashUs: (hash * 1000) / n,
      decideUs: (dec * 1000) / n,
      hashShare: hash / (hash + dec),
      decideShare: dec / (hash + dec),
    },
    modes,
  };
};

/** µs per call of `fn(i)` over the pool, for `seconds`. */
const timeIt = (seconds: number, fn: (i: number) => unknown): number => {
  let n = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let t = t0;
  do {
    for (let k = 0; k < 32; k++, n++) if (fn(n & (POOL - 1)) === sink) sink++;
    t = performance.now();
  } while (t < end);
  return ((t - t0) * 1000) / n;
};

/** The two heavy stages of decide() apart: all posteriors, and the Thompson estimate at 64 samples. */
const stages = (s: Setup, decideUs: number, seconds: number): DecideFigure['stages'] => {
  const now = Date.now();
  const features = Array.from({ length: POOL }, (_, i) => s.featuresOf(i, now));
  const options = features.map((f) => s.options(f));
  timeIt(0.3, (i) => s.options(features[i] as SparseFeatures));
  const posteriorsUs = timeIt(seconds, (i) => s.options(features[i] as SparseFeatures));
  const samples = s.catalog.propensitySamples;
  timeIt(0.3, (i) => s.thompson(options[i] as DecideLib.Option[], samples));
  const thompsonUs = timeIt(seconds, (i) => s.thompson(options[i] as DecideLib.Option[], samples));
  return { posteriorsUs, thompsonUs, restUs: decideUs - posteriorsUs - thompsonUs };
};

/** The child: setup, warm-up, the headline run, the breakdown, then the propensitySamples variants. */
const child = async (opts: { seconds: number; warmupSeconds: number; out: string }): Promise<void> => {
  const s = await setup();
  const samples = s.catalog.propensitySamples;
  measure(s, samples, opts.warmupSeconds);
  const main = measure(s, samples, opts.seconds);
  const { result, modes } = breakdown(s, Math.max(1, opts.seconds / 2));
  const stageTimes = stages(s, result.decideUs, Math.max(0.5, opts.seconds / 4));
  const variants = SAMPLE_VARIANTS.map((k) => {
    measure(s, k, 0.5);
    return measure(s, k, Math.max(1, opts.seconds / 2));
  });
  const out: ChildResult = {
    actions: ACTIONS,
    optionsScored: s.optionsScored,
    features: s.features,
    model: s.model,
    warmupSeconds: opts.warmupSeconds,
    main,
    variants,
    breakdown: result,
    stages: stageTimes,
    modes,
  };
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, JSON.stringify(out));
  if (sink === 42) process.stdout.write('\n'); // keeps `sink` alive
};

/**
 * Runs the figure in a child process (optionally under `--cpu-prof`, written to `cpuProfDir` when it exits).
 * `seconds` is the headline run; the breakdown and each variant take half of it (at least 1 s).
 */
export const runDecide = async (opts: {
  dir: string;
  seconds: number;
  warmupSeconds: number;
  cpuProfDir?: string;
}): Promise<DecideFigure> => {
  const out = join(opts.dir, `decide-${Date.now()}.json`);
  const prof = opts.cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir];
  const args = [
    ...prof,
    '--import',
    'tsx',
    'bench/decide.ts',
    '--child',
    '--seconds',
    String(opts.seconds),
    '--warmup',
    String(opts.warmupSeconds),
    '--out',
    out,
  ];
  // Not cpuMeter: /proc/<pid> is gone once the child has exited; runToExit keeps its last CPU sample.
  const machine0 = machineBusySeconds();
  const self0 = process.cpuUsage();
  const c = spawnNode('decide', args);
  const expected = opts.warmupSeconds + opts.seconds * 3 + 5;
  const run = await runToExit(c, (expected + 60) * 1000);
  const self = process.cpuUsage(self0);
  const client = (self.user + self.system) / 1e6;
  const machine = machineBusySeconds() - machine0;
  const cpu: CpuUse = {
    wall: run.seconds,
    server: run.cpuSeconds,
    client,
    other: Math.max(0, machine - run.cpuSeconds - client),
  };
  if (run.code !== 0) throw new Error(`bench/decide.ts exited with ${run.code}:\n${c.output()}`);
  return { ...(JSON.parse(readFileSync(out, 'utf8')) as ChildResult), cpu };
};

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      child: { type: 'boolean', default: false },
      seconds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '3' },
      out: { type: 'string', default: join(ROOT, 'bench/out/decide.json') },
    },
  });
  await child({ seconds: Number(values.seconds), warmupSeconds: Number(values.warmup), out: values.out });
  if (!values.child) process.stdout.write(`${readFileSync(values.out, 'utf8')}\n`);
}
