import Database from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';
import { BatchSource } from './events.js';
import { runLoad, type LoadResult } from './load.js';
import { cpuMeter, type CpuUse, type Server } from './servers.js';
import { ADMIN_KEY, SOURCE, WRITE_KEY } from './workspace.js';

/**
 * Figure 1: `POST /v1/batch` throughput, 100 events a request, against Pathwise and two baselines: the bare
 * route and the durable SQLite append.
 */

export const basicAuth = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`;
export const jsonHeaders = { 'content-type': 'application/json', authorization: basicAuth };

export interface IngestOptions {
  seconds: number;
  warmupSeconds: number;
  connections: number;
  eventsPerBatch: number;
  seed: number;
  runTag: string;
}

export interface IngestRun {
  load: LoadResult;
  eventsPerSec: number;
  warmup: LoadResult;
  bodyBytes: number;
  eventBytes: number;
  issuedEvents: number;
  /** CPU used during the measured run by the server, the load generator and the rest of the machine. */
  cpu: CpuUse;
  /** Server CPU per accepted event, µs. */
  serverUsPerEvent: number;
}

/** Warm-up, then the measured run, with one body source so messageIds stay unique across both. */
export const runIngest = async (server: Server, opts: IngestOptions): Promise<IngestRun> => {
  const source = new BatchSource({
    seed: opts.seed,
    runTag: opts.runTag,
    pool: 64,
    eventsPerBatch: opts.eventsPerBatch,
    now: Date.now(),
  });
  const base = { url: `${server.url}/v1/batch`, headers: jsonHeaders, body: () => source.next() };
  const warmup = await runLoad({ ...base, connections: opts.connections, seconds: opts.warmupSeconds });
  const meter = cpuMeter(server.child.pid);
  const load = await runLoad({ ...base, connections: opts.connections, seconds: opts.seconds });
  const cpu = meter.stop();
  const { bodyBytes, eventBytes } = source.sizes;
  return {
    cpu,
    serverUsPerEvent: (cpu.server * 1e6) / (load.ok * opts.eventsPerBatch),
    load,
    warmup,
    eventsPerSec: (load.ok * opts.eventsPerBatch) / load.seconds,
    bodyBytes,
    eventBytes,
    issuedEvents: source.issued * opts.eventsPerBatch,
  };
};

/** Fails loudly when any request of a run was not answered 2xx. */
export const assertAll2xx = (label: string, r: LoadResult): void => {
  if (r.non2xx > 0 || r.errors > 0) {
    throw new Error(
      `${label}: ${r.non2xx} non-2xx responses ${JSON.stringify(r.statusCodes)}, ${r.errors} errors (${r.timeouts} timeouts)`,
    );
  }
};

export interface IngestCounts {
  accepted: number;
  duplicate: number;
  rejected: number;
}

/** `pathwise_ingest_events_total` for our source, by outcome, from `/metrics`. */
export const fetchIngestCounts = async (url: string): Promise<IngestCounts> => {
  const text = await (await fetch(`${url}/metrics`)).text();
  const counts: IngestCounts = { accepted: 0, duplicate: 0, rejected: 0 };
  for (const line of text.split('\n')) {
    if (!line.startsWith('pathwise_ingest_events_total{')) continue;
    const source = /source="([^"]*)"/.exec(line)?.[1];
    const outcome = /outcome="([^"]*)"/.exec(line)?.[1];
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (source === SOURCE && (outcome === 'accepted' || outcome === 'duplicate' || outcome === 'rejected')) {
      counts[outcome] += value;
    }
  }
  return counts;
};

/** Group commits as the server saw them: how many, how big, and how long (profile updates included). */
export interface CommitStats {
  commits: number;
  meanEvents: number;
  meanMs: number;
  /** Seconds spent inside commits (the writer is serial: near the run's length means it is the bottleneck). */
  totalSeconds: number;
}

export const fetchCommitStats = async (url: string): Promise<CommitStats> => {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  const commits = value('pathwise_ingest_commit_seconds_count');
  const totalSeconds = value('pathwise_ingest_commit_seconds_sum');
  return {
    commits,
    totalSeconds,
    meanMs: (totalSeconds / commits) * 1000,
    meanEvents: value('pathwise_ingest_commit_events_sum') / value('pathwise_ingest_commit_events_count'),
  };
};

/** Waits until the server's counters stop moving (requests cut off at the end of a run still commit). */
export const settledCounts = async (url: string, timeoutMs = 15_000): Promise<IngestCounts> => {
  const deadline = Date.now() + timeoutMs;
  let last = await fetchIngestCounts(url);
  while (Date.now() < deadline) {
    await sleep(300);
    const now = await fetchIngestCounts(url);
    if (now.accepted === last.accepted && now.rejected === last.rejected && now.duplicate === last.duplicate)
      return now;
    last = now;
  }
  return last;
};

/** Rows in the dead-letter table (first page of up to 1000), through the admin API. */
export const fetchDeadLetters = async (url: string): Promise<number> => {
  const res = await fetch(`${url}/v1/dead-letter?limit=1000`, {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  });
  if (res.status !== 200) throw new Error(`GET /v1/dead-letter answered ${res.status}: ${await res.text()}`);
  const page = (await res.json()) as { items?: unknown[] };
  return page.items?.length ?? 0;
};

export interface Verification {
  counts: IngestCounts;
  deadLetters: number;
  /** Events in 2xx responses (warm-up and run): the server must have accepted at least these. */
  answeredEvents: number;
  /** Events in every body built: the server cannot have accepted more. */
  issuedEvents: number;
  /** Over warm-up and run together. */
  commits: CommitStats;
  ok: boolean;
}

/**
 * Every event answered 2xx must be counted as accepted, none rejected or duplicated, nothing dead-lettered.
 * Requests still in flight when autocannon stopped may or may not have reached the server, hence a range.
 */
export const verifyIngest = async (
  url: string,
  run: IngestRun,
  eventsPerBatch: number,
): Promise<Verification> => {
  const counts = await settledCounts(url);
  const deadLetters = await fetchDeadLetters(url);
  const commits = await fetchCommitStats(url);
  const answeredEvents = (run.load.ok + run.warmup.ok) * eventsPerBatch;
  const ok =
    counts.rejected === 0 &&
    counts.duplicate === 0 &&
    deadLetters === 0 &&
    counts.accepted >= answeredEvents &&
    counts.accepted <= run.issuedEvents &&
    counts.accepted % eventsPerBatch === 0;
  return { counts, deadLetters, answeredEvents, issuedEvents: run.issuedEvents, commits, ok };
};

/** What the durable-append baseline stored, against what it answered 2xx and what was sent. */
export interface AppendCheck {
  rows: number;
  /** Events in 2xx responses (warm-up and run): each was committed before its answer. */
  answeredEvents: number;
  issuedEvents: number;
  ok: boolean;
}

/** Rows in bench/append-server.ts's database, read after the server stopped. */
export const checkAppend = (db: string, run: IngestRun, eventsPerBatch: number): AppendCheck => {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  try {
    const rows = (conn.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
    const answeredEvents = (run.load.ok + run.warmup.ok) * eventsPerBatch;
    const ok = rows >= answeredEvents && rows <= run.issuedEvents && rows % eventsPerBatch === 0;
    return { rows, answeredEvents, issuedEvents: run.issuedEvents, ok };
  } finally {
    conn.close();
  }
};
