import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { loadConfigFile } from '../config/load.js';
import { PathwiseError } from '../errors.js';
import {
  baselines,
  createWorld,
  parseScenario,
  runPolicy,
  ScenarioError,
  shareOf,
  summarize,
  type Outcome,
  type PolicySummary,
  type Scenario,
} from '../sim/index.js';
import { runProduct } from './product-run.js';
import { checkWorkspace } from './workspace.js';

/** The policies a report compares, in the order it shows them. */
export const POLICIES = ['autonomous', 'static', 'random', 'none', 'oracle'] as const;
export type PolicyKey = (typeof POLICIES)[number];
export const POLICY_LABELS: Record<PolicyKey, string> = {
  autonomous: 'autonomous (Pathwise)',
  static: 'static journey',
  random: 'uniform random',
  none: 'no action',
  oracle: 'oracle',
};

/** Windows of arrivals in the learning curve. */
const WINDOWS = 10;
/** The share of the run, at its end, that the "after learning" figures cover. */
export const TAIL = 0.2;

export interface SimulateOptions {
  scenarioFile: string;
  customers?: number;
  seed?: number;
  /** Serve and send over HTTP at this URL (see runProduct). */
  http?: string;
  /** Called as the run goes: which part, how far. */
  onProgress?: (phase: 'product' | 'baselines', done: number, total: number) => void;
  /** Checked as the product run goes: true stops it (see runProduct). */
  shouldStop?: () => boolean;
}

/** Everything a simulation measured: the JSON of the report. */
export interface SimReport {
  scenario: { name: string; description: string; file: string; customers: number; seed: number };
  driver: {
    mode: 'in-process' | 'http';
    url?: string;
    requests: number;
    emails: number;
    webhooks: number;
    ticks: number;
    problems: string[];
  };
  elapsedMs: { product: number; baselines: number };
  /** Over every customer, learning included. */
  policies: Record<PolicyKey, PolicySummary>;
  /** Over the last TAIL share of the customers (after learning). */
  tail: Record<PolicyKey, PolicySummary>;
  comparison: {
    /** Autonomous incremental conversions (over no action) as a share of the oracle's. */
    shareOfOracle: { all: number; tail: number };
    /** Autonomous ÷ static − 1, for conversion rate and revenue per customer. */
    vsStatic: { conversion: { all: number; tail: number }; revenue: { all: number; tail: number } };
  };
}

/** Reads and checks a scenario file; a bad one is a PW_ERR_SIM_SCENARIO naming the file and each field. */
export const loadScenarioFile = (file: string): Scenario => {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PathwiseError(
      'PW_ERR_SIM_SCENARIO',
      `${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      {
        cause: err,
      },
    );
  }
  try {
    return parseScenario(text);
  } catch (err) {
    if (err instanceof ScenarioError)
      throw new PathwiseError('PW_ERR_SIM_SCENARIO', `${file}: ${err.message}`, { cause: err });
    throw err;
  }
};

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b - 1);

/**
 * Runs a scenario: the autonomous policy through the real product (runProduct), then the baselines in the pure
 * simulator over the same customers with the same luck (the same seed gives each customer the same hidden
 * preferences and the same draws for the k-th message, whoever sends it), and compares them.
 */
export const simulate = async (
  opts: SimulateOptions,
  now: () => number = () => performance.now(),
): Promise<SimReport> => {
  const scenario = loadScenarioFile(opts.scenarioFile);
  const world = createWorld(scenario, {
    ...(opts.customers === undefined ? {} : { customers: opts.customers }),
    ...(opts.seed === undefined ? {} : { seed: opts.seed }),
  });
  const configFile = resolve(dirname(opts.scenarioFile), scenario.config);
  const config = loadConfigFile(configFile);
  const issues = checkWorkspace(world, config);
  if (issues.length > 0) {
    throw new PathwiseError('PW_ERR_SIM_SCENARIO', `${opts.scenarioFile}: ${issues.join('; ')}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'pathwise-sim-'));
  const t0 = now();
  let product;
  try {
    product = await runProduct({
      world,
      config,
      configFile,
      db: join(dir, 'sim.db'),
      seed: world.seed,
      ...(opts.http === undefined ? {} : { http: opts.http }),
      onProgress: (n) => opts.onProgress?.('product', n, world.customers),
      ...(opts.shouldStop === undefined ? {} : { shouldStop: opts.shouldStop }),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const t1 = now();
  const runs: Record<PolicyKey, Outcome[]> = { autonomous: product.outcomes } as Record<PolicyKey, Outcome[]>;
  const b = baselines(scenario);
  const keys = ['static', 'random', 'none', 'oracle'] as const;
  keys.forEach((k, i) => {
    runs[k] = runPolicy(world, b[k] as NonNullable<(typeof b)[string]>, world.seed + 1 + i, (n) =>
      opts.onProgress?.('baselines', i * world.customers + n, keys.length * world.customers),
    );
  });
  const t2 = now();
  const from = Math.floor(world.customers * (1 - TAIL));
  const policies = {} as Record<PolicyKey, PolicySummary>;
  const tail = {} as Record<PolicyKey, PolicySummary>;
  for (const k of POLICIES) {
    policies[k] = summarize(runs[k], { windows: WINDOWS, none: runs.none });
    tail[k] = summarize(runs[k].slice(from), { windows: 1, none: runs.none.slice(from) });
  }
  return {
    scenario: {
      name: scenario.name,
      description: scenario.description,
      file: opts.scenarioFile,
      customers: world.customers,
      seed: world.seed,
    },
    driver: {
      mode: opts.http === undefined ? 'in-process' : 'http',
      ...(product.traffic.url === undefined ? {} : { url: product.traffic.url }),
      requests: product.traffic.requests,
      emails: product.traffic.emails,
      webhooks: product.traffic.webhooks,
      ticks: product.traffic.ticks,
      problems: product.problems,
    },
    elapsedMs: { product: Math.round(t1 - t0), baselines: Math.round(t2 - t1) },
    policies,
    tail,
    comparison: {
      shareOfOracle: {
        all: shareOf(policies.autonomous, policies.oracle),
        tail: shareOf(tail.autonomous, tail.oracle),
      },
      vsStatic: {
        conversion: {
          all: ratio(policies.autonomous.conversion.value, policies.static.conversion.value),
          tail: ratio(tail.autonomous.conversion.value, tail.static.conversion.value),
        },
        revenue: {
          all: ratio(policies.autonomous.revenue.value, policies.static.revenue.value),
          tail: ratio(tail.autonomous.revenue.value, tail.static.revenue.value),
        },
      },
    },
  };
};
