import Database from 'better-sqlite3';
import { PLACEMENTS, requestContext } from './decide-workspace.js';
import { seededRng } from './events.js';
import { runOpenLoop, type OpenLoopResult } from './latency.js';
import { cpuMeter, type CpuUse, type Server } from './servers.js';

/**
 * Figure `decide-http`: `POST /v1/decide` against a running server at a fixed open-loop rate: one request
 * every 1000/rate ms on a fixed schedule, on as many keep-alive sockets as needed, each timed from when it
 * was due (bench/latency.ts's approach, with p90 and the answers' decision modes added). Requests are spread
 * uniformly over `users` distinct userIds: the first request of a user creates its profile.
 */

export interface DecideLoad extends OpenLoopResult {
  /** Distinct userIds the run sent. */
  users: number;
  /** `mode` of the 2xx answers (exploit, explore, holdout, no-candidates, …). */
  modes: Record<string, number>;
  /** 2xx answers that named an action (the rest: show the placement's default content). */
  withAction: number;
}

/** Bodies of `POST /v1/decide`: a uniformly drawn user among `users`, a placement, a small context. */
const bodies = (seed: number, users: number, prefix: string) => {
  const rng = seededRng(seed);
  const seen = new Set<number>();
  return {
    next: (): string => {
      const n = Math.floor(rng() * users);
      seen.add(n);
      const placement = PLACEMENTS[Math.floor(rng() * PLACEMENTS.length)];
      return JSON.stringify({ userId: `${prefix}${n}`, placement, context: requestContext(rng) });
    },
    seen: () => seen.size,
  };
};

/** The open-loop run: `rate` × `seconds` requests on a fixed schedule, counting the answers' modes. */
export const openLoopDecide = async (opts: {
  url: string;
  rate: number;
  seconds: number;
  body: () => string;
}): Promise<Omit<DecideLoad, 'users'>> => {
  const modes: Record<string, number> = {};
  let withAction = 0;
  const run = await runOpenLoop({
    ...opts,
    path: '/v1/decide',
    onAnswer: (body) => {
      try {
        const answer = JSON.parse(body.toString('utf8')) as { mode?: string; action?: unknown };
        const mode = answer.mode ?? '(none)';
        modes[mode] = (modes[mode] ?? 0) + 1;
        if (answer.action !== null && answer.action !== undefined) withAction++;
      } catch {
        modes['(not JSON)'] = (modes['(not JSON)'] ?? 0) + 1;
      }
    },
  });
  return { ...run, modes, withAction };
};

export interface DecideHttpRun {
  warmup: DecideLoad;
  load: DecideLoad;
  /** CPU during the measured run. */
  cpu: CpuUse;
  /** Server CPU per answered request, µs. */
  serverUsPerRequest: number;
}

/**
 * Warm-up on its own users (`warm-…`, so every user of the measured run is new when the run starts), then
 * the measured run at the same rate.
 */
export const runDecideHttp = async (
  server: Server,
  opts: { rate: number; seconds: number; warmupSeconds: number; users: number; seed: number; runTag: string },
): Promise<DecideHttpRun> => {
  const warm = bodies(opts.seed, opts.users, `warm-${opts.runTag}-`);
  const warmup = {
    ...(await openLoopDecide({
      url: server.url,
      rate: opts.rate,
      seconds: opts.warmupSeconds,
      body: warm.next,
    })),
    users: warm.seen(),
  };
  const main = bodies(opts.seed + 1, opts.users, `user-${opts.runTag}-`);
  const meter = cpuMeter(server.child.pid);
  const run = await openLoopDecide({
    url: server.url,
    rate: opts.rate,
    seconds: opts.seconds,
    body: main.next,
  });
  const cpu = meter.stop();
  return {
    warmup,
    load: { ...run, users: main.seen() },
    cpu,
    serverUsPerRequest: (cpu.server * 1e6) / Math.max(1, run.ok),
  };
};

export interface DecideStoreCheck {
  decisions: number;
  profiles: number;
  /** Decisions logged ≥ answered 2xx and ≤ sent; one profile per distinct user (at most, if requests failed). */
  ok: boolean;
}

/** After the server stopped: the decision log and the profiles in its SQLite file. */
export const checkDecideStore = (db: string, run: DecideHttpRun): DecideStoreCheck => {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  try {
    const count = (sql: string) => (conn.prepare(sql).get() as { n: number }).n;
    const decisions = count('SELECT count(*) AS n FROM decisions');
    const profiles = count('SELECT count(*) AS n FROM profiles WHERE merged_into IS NULL');
    const answered = run.warmup.ok + run.load.ok;
    const sent = run.warmup.sent + run.load.sent;
    const users = run.warmup.users + run.load.users;
    // A request that timed out may never have reached the store: then only an upper bound holds.
    const failed = run.warmup.errors + run.load.errors + run.warmup.non2xx + run.load.non2xx;
    return {
      decisions,
      profiles,
      ok:
        decisions >= answered && decisions <= sent && profiles <= users && (failed > 0 || profiles === users),
    };
  } finally {
    conn.close();
  }
};
