import Database from 'better-sqlite3';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { jsonHeaders } from './ingest-http.js';
import { latencyHistogram, percentilesMs, type Percentiles } from './load.js';
import { LoopBatches, TRIGGER_EVERY, writeLoopConfig } from './loop-workspace.js';
import { cpuMeter, startPathwise, stopChild, type CpuUse, type Server } from './servers.js';
import type { Workspace } from './workspace.js';

/**
 * Figure `loop`: the whole orchestration loop of one embedded server. Simulated customers send `/v1/batch`
 * (100 events, one in five a `Checkout Started` that triggers message actions); ingest writes a `decide` timer
 * with each, the engine loop (every 200 ms) turns due timers into decisions and outbox rows, and the dispatcher
 * POSTs each message to a webhook receiver in this process. Every payload names its triggering event, so the
 * lag from the batch's ack to the webhook's arrival is measured per event.
 *
 * Runs, each on a fresh server and database:
 * 1. baseline: the same events against a config with no actions (ingest only), closed loop;
 * 2. sustainable: closed loop with bounded concurrency: `connections` requests in flight, and the senders wait
 *    while more triggering events are acknowledged but undelivered than the loop delivers in `lagBound`
 *    seconds (at its rate over the last 2 s; at least 200): when the loop falls behind, ingest waits for it,
 *    so the steady state is the rate the loop keeps up with at a lag of about `lagBound` at most (and the time
 *    the senders spent waiting shows whether the loop or ingest was the limit);
 * 3. paced at the target (5,000 events/s): an open-loop schedule; does the loop keep up, with what lag;
 * 4. if 3 fell behind: paced at 80% of the sustainable rate, for the lag at a rate the loop does keep up with.
 */

export const TARGET_EVENTS_PER_SEC = 5_000;

// ---------------------------------------------------------------------------------------------------------
// The webhook receiver and the bookkeeping of triggering events.

/**
 * For the closed loop's gate only: an acknowledged triggering event still undelivered after this long stops
 * counting as in flight (its decision chose to send nothing, or a goal event cancelled the message).
 */
const GATE_EXPIRE_MS = 15_000;
/** Width of the buckets the recent delivery rate is counted in, and how many make it up (2 s). */
const BUCKET_MS = 250;
const RATE_BUCKETS = 8;

/**
 * Follows every triggering event from its batch's ack to its webhook: the receiver calls `delivered` with the
 * payload's `ref` (the event's messageId).
 */
class Tracker {
  /** messageId → when its batch was acknowledged (performance.now()); removed on delivery. */
  private readonly acked = new Map<string, number>();
  /** The same, for the gate: also removed once older than GATE_EXPIRE_MS. In ack order. */
  private readonly gate = new Map<string, number>();
  /** Deliveries that arrived before their batch's ack was read (the ack is then the arrival: lag ~0). */
  private readonly early = new Map<string, number>();
  private readonly seen = new Set<string>();
  /** Deliveries per BUCKET_MS, the newest last. */
  private readonly buckets: number[] = [];
  private bucketStart = 0;
  lag = latencyHistogram();
  /** Lag is recorded for triggering events acknowledged inside this window (performance.now()). */
  window = { from: Infinity, to: Infinity };
  triggersAcked = 0;
  deliveries = 0;
  matched = 0;
  /** Same idempotency key twice (a retry after a lost answer): not counted again. */
  duplicates = 0;
  /** Deliveries naming no event this run sent. */
  unmatched = 0;
  /** Undelivered events the gate stopped counting (see GATE_EXPIRE_MS). */
  expired = 0;
  earlyCount = 0;
  lastDeliveryAt = 0;
  byPath: Record<string, number> = {};

  acknowledged(ids: readonly string[], at: number): void {
    this.triggersAcked += ids.length;
    for (const id of ids) {
      if (!this.early.has(id)) {
        this.acked.set(id, at);
        this.gate.set(id, at);
        continue;
      }
      this.early.delete(id);
      this.earlyCount++;
      this.matched++;
      if (at >= this.window.from && at <= this.window.to) this.lag.recordValue(1);
    }
  }

  delivered(ref: string, key: string, path: string, at: number): void {
    if (this.seen.has(key)) {
      this.duplicates++;
      return;
    }
    this.seen.add(key);
    this.deliveries++;
    this.lastDeliveryAt = at;
    this.byPath[path] = (this.byPath[path] ?? 0) + 1;
    this.rotate(at);
    this.buckets[this.buckets.length - 1]! += 1;
    const ackedAt = this.acked.get(ref);
    if (ackedAt === undefined) {
      if (ref.startsWith('bm-')) this.early.set(ref, at);
      else this.unmatched++;
      return;
    }
    this.acked.delete(ref);
    this.gate.delete(ref);
    this.matched++;
    if (ackedAt >= this.window.from && ackedAt <= this.window.to)
      this.lag.recordValue(Math.max(1, Math.round((at - ackedAt) * 1000)));
  }

  private rotate(now: number): void {
    if (this.buckets.length === 0) {
      this.bucketStart = now;
      this.buckets.push(0);
    }
    while (now - this.bucketStart >= BUCKET_MS) {
      this.bucketStart += BUCKET_MS;
      this.buckets.push(0);
      if (this.buckets.length > RATE_BUCKETS + 1) this.buckets.shift();
    }
  }

  /** Deliveries per second over the last ~2 s (the bucket in progress excluded). */
  recentRate(now: number): number {
    this.rotate(now);
    const full = this.buckets.slice(0, -1);
    return full.length === 0 ? 0 : full.reduce((a, b) => a + b, 0) / ((full.length * BUCKET_MS) / 1000);
  }

  /** Acknowledged and undelivered, as the gate counts them (see GATE_EXPIRE_MS). */
  outstanding(now: number): number {
    for (const [id, at] of this.gate) {
      if (now - at < GATE_EXPIRE_MS) break;
      this.gate.delete(id);
      this.expired++;
    }
    return this.gate.size;
  }

  /** Acknowledged and never delivered (so far). */
  get undelivered(): number {
    return this.acked.size;
  }

  /** Lag recorded from now on for events acknowledged from now on (a fresh histogram). */
  startWindow(from: number): void {
    this.lag = latencyHistogram();
    this.window = { from, to: Infinity };
  }
}

interface Receiver {
  url: string;
  close(): Promise<void>;
}

/** A webhook provider on a loopback port in this process: answers 200 to everything and tells the tracker. */
const startReceiver = async (tracker: () => Tracker | undefined): Promise<Receiver> => {
  const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      let ref = '';
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { content?: { ref?: unknown } };
        ref = String(body.content?.ref ?? '');
      } catch {
        // not JSON: counted as unmatched
      }
      const key = String(req.headers['idempotency-key'] ?? `none-${at}`);
      tracker()?.delivered(ref, key, req.url ?? '', at);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"id":"bench"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

// ---------------------------------------------------------------------------------------------------------
// Load: closed loop (optionally gated by the loop's lag) or paced.

/** Paced runs: at most this many batches in flight; a batch due beyond it is skipped (and counted). */
const PACED_MAX_IN_FLIGHT = 64;

/** The gate's smallest window of undelivered triggering events (the loop's 200 ms cadence needs some). */
const MIN_WINDOW = 200;

interface Counters {
  sent: number;
  okBatches: number;
  events: number;
  triggers: number;
  non2xx: number;
  errors: number;
  statusCodes: Record<string, number>;
}

const newCounters = (): Counters => ({
  sent: 0,
  okBatches: 0,
  events: 0,
  triggers: 0,
  non2xx: 0,
  errors: 0,
  statusCodes: {},
});

/** POSTs bodies to /v1/batch; resolves with the status code (0 on a connection error). */
const poster = (url: string, maxSockets: number) => {
  const target = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets });
  const post = (body: string): Promise<number> =>
    new Promise((resolve) => {
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: '/v1/batch',
          method: 'POST',
          headers: { ...jsonHeaders, 'content-length': Buffer.byteLength(body) },
          timeout: 30_000,
        },
        (res) => {
          res.resume();
          res.once('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.once('timeout', () => req.destroy(new Error('timeout')));
      req.once('error', () => resolve(0));
      req.end(body);
    });
  return { post, close: () => agent.destroy() };
};

interface LoadOptions {
  url: string;
  source: LoopBatches;
  tracker: Tracker | undefined;
  seconds: number;
  /** Closed loop: this many requests in flight. */
  connections: number;
  /**
   * Closed loop: wait while more triggering events are acknowledged but undelivered (or in flight) than the
   * loop delivers in this many seconds (at least MIN_WINDOW).
   */
  lagBound?: number;
  /** Paced: events per second on a fixed schedule (batches of eventsPerBatch), instead of the closed loop. */
  rate?: number;
  /** Filled as the run goes (the sampler reads it). */
  counters?: Counters;
}

interface LoadResult {
  counters: Counters;
  ack: Percentiles;
  /** Closed loop with a lag bound: share of the senders' time spent waiting for the loop to catch up. */
  waitingShare: number;
  /** Paced: batches sent more than 100 ms after their scheduled time (the generator could not keep up). */
  late: number;
  /**
   * Paced: batches not sent at all because PACED_MAX_IN_FLIGHT requests were still unanswered (the server
   * did not keep up with the schedule).
   */
  skipped: number;
}

const runLoad = async (opts: LoadOptions): Promise<LoadResult> => {
  const { post, close } = poster(opts.url, opts.rate === undefined ? opts.connections : 1024);
  const counters = opts.counters ?? newCounters();
  const ack = latencyHistogram();
  let inFlightTriggers = 0;
  let waitingMs = 0;
  let late = 0;
  let skipped = 0;
  const one = async () => {
    const b = opts.source.next();
    counters.sent++;
    inFlightTriggers += b.triggers.length;
    const t0 = performance.now();
    const status = await post(b.body);
    const t1 = performance.now();
    inFlightTriggers -= b.triggers.length;
    counters.statusCodes[status] = (counters.statusCodes[status] ?? 0) + 1;
    if (status === 0) counters.errors++;
    else if (status < 200 || status >= 300) counters.non2xx++;
    else {
      ack.recordValue(Math.max(1, Math.round((t1 - t0) * 1000)));
      counters.okBatches++;
      counters.events += b.events;
      counters.triggers += b.triggers.length;
      opts.tracker?.acknowledged(b.triggers, t1);
    }
  };
  const start = performance.now();
  const end = start + opts.seconds * 1000;
  try {
    if (opts.rate === undefined) {
      const worker = async () => {
        while (performance.now() < end) {
          if (opts.lagBound !== undefined && opts.tracker !== undefined) {
            const t = opts.tracker;
            const bound = opts.lagBound;
            const full = (now: number) =>
              t.outstanding(now) + inFlightTriggers >= Math.max(MIN_WINDOW, bound * t.recentRate(now));
            const w0 = performance.now();
            while (full(performance.now()) && performance.now() < end) await sleep(2);
            waitingMs += performance.now() - w0;
            if (performance.now() >= end) break;
          }
          await one();
        }
      };
      await Promise.all(Array.from({ length: opts.connections }, worker));
    } else {
      const interval = (1000 * 100) / opts.rate;
      const total = Math.round((opts.seconds * opts.rate) / 100);
      const pending = new Set<Promise<void>>();
      for (let i = 0; i < total; i++) {
        const due = start + i * interval;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        else if (wait < -100) late++;
        if (pending.size >= PACED_MAX_IN_FLIGHT) {
          skipped++;
          continue;
        }
        const p: Promise<void> = one().finally(() => pending.delete(p));
        pending.add(p);
      }
      await Promise.all(pending);
    }
  } finally {
    close();
  }
  return {
    counters,
    ack: percentilesMs(ack),
    waitingShare: opts.rate === undefined ? waitingMs / (opts.connections * opts.seconds * 1000) : 0,
    late,
    skipped,
  };
};

// ---------------------------------------------------------------------------------------------------------
// Server-side figures: /metrics during the run, the SQLite file after it.

interface ServerCounts {
  accepted: number;
  decisions: number;
  /** Decisions that chose an action (label action != none). */
  withAction: number;
}

const fetchCounts = async (url: string, timeoutMs = 5_000): Promise<ServerCounts> => {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(timeoutMs) })).text();
  const c: ServerCounts = { accepted: 0, decisions: 0, withAction: 0 };
  for (const line of text.split('\n')) {
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith('pathwise_decisions_total{')) {
      c.decisions += value;
      if (!line.includes('action="none"')) c.withAction += value;
    } else if (line.startsWith('pathwise_ingest_events_total{') && line.includes('outcome="accepted"'))
      c.accepted += value;
  }
  return c;
};

export interface StoreCheck {
  events: number;
  decisions: number;
  decisionsWithAction: number;
  deliveries: Record<string, number>;
  timers: Record<string, number>;
}

const checkStore = (db: string): StoreCheck => {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  try {
    const n = (sql: string) => (conn.prepare(sql).get() as { n: number }).n;
    const grouped = (sql: string) =>
      Object.fromEntries(
        (conn.prepare(sql).all() as Array<{ k: string; n: number }>).map((r) => [r.k, r.n]),
      ) as Record<string, number>;
    return {
      events: n('SELECT count(*) AS n FROM events'),
      decisions: n('SELECT count(*) AS n FROM decisions'),
      decisionsWithAction: n('SELECT count(*) AS n FROM decisions WHERE action_id IS NOT NULL'),
      deliveries: grouped('SELECT status AS k, count(*) AS n FROM deliveries GROUP BY status'),
      timers: grouped('SELECT kind AS k, count(*) AS n FROM timers GROUP BY kind'),
    };
  } finally {
    conn.close();
  }
};

// ---------------------------------------------------------------------------------------------------------
// One run.

export interface Sample {
  /** Seconds since the measured run started. */
  t: number;
  events: number;
  triggers: number;
  decisions: number;
  deliveries: number;
  /** Acknowledged triggering events not yet delivered. */
  outstanding: number;
}

export interface LoopRun {
  kind: 'baseline' | 'sustainable' | 'paced';
  /** Paced runs: the scheduled events/s. */
  rate?: number;
  /** Closed-loop runs: requests in flight; the sustainable run: its lag bound, s. */
  connections?: number;
  lagBound?: number;
  seconds: number;
  eventsPerSec: number;
  triggersPerSec: number;
  decisionsPerSec: number;
  /** Decisions that chose a message, per second, and their share of all decisions. */
  actionsPerSec: number;
  actionShare: number;
  deliveriesPerSec: number;
  /** Webhook arrival minus batch ack, for triggering events acknowledged during the run (drain included). */
  lag: Percentiles;
  /** Batch answer times. */
  ack: Percentiles;
  /** Deliveries/s over triggering events/s (1: the loop keeps up). */
  deliveredShare: number;
  /** Triggering events acknowledged during the run that were delivered before the drain ended. */
  lagSamples: number;
  /** Undelivered triggering events at the end of the run, and seconds until the last delivery after it. */
  backlogAtEnd: number;
  /** False: the backlog was too large to wait for (lag then covers only the events delivered by the end). */
  drained: boolean;
  drainSeconds: number;
  /** Acknowledged triggering events (warm-up included) never delivered by the end of the drain. */
  undelivered: number;
  keepsUp: boolean;
  waitingShare: number;
  late: number;
  skipped: number;
  load: Counters;
  warmup: Counters;
  tracker: {
    deliveries: number;
    matched: number;
    duplicates: number;
    unmatched: number;
    expired: number;
    early: number;
    byPath: Record<string, number>;
  };
  cpu: CpuUse;
  serverUsPerEvent: number;
  series: Sample[];
  store: StoreCheck;
  /** Under --cpu-prof: the measured run, in ms after the server was spawned. */
  profileWindowMs?: [number, number];
}

interface RunOptions {
  kind: LoopRun['kind'];
  ws: Workspace;
  receiverUrl: string | undefined;
  trackerRef: { current: Tracker | undefined };
  seconds: number;
  warmupSeconds: number;
  connections: number;
  lagBound?: number;
  rate?: number;
  seed: number;
  runTag: string;
  log: (msg: string) => void;
  cpuProfDir?: string;
}

/** Longest wait for the backlog to drain after the load stopped. */
const DRAIN_LIMIT_MS = 30_000;
/** Outstanding events still undelivered this long after the last delivery never will be (nothing chosen). */
const DRAIN_QUIET_MS = 3_000;

const oneRun = async (opts: RunOptions): Promise<LoopRun> => {
  writeLoopConfig(opts.ws, opts.receiverUrl);
  const db = opts.ws.db(`loop-${opts.kind}-${opts.runTag}`);
  const tracker = opts.receiverUrl === undefined ? undefined : new Tracker();
  opts.trackerRef.current = tracker;
  const server: Server = await startPathwise({
    config: opts.ws.config,
    db,
    ...(opts.cpuProfDir === undefined ? {} : { cpuProfDir: opts.cpuProfDir }),
  });
  let result: Omit<LoopRun, 'store'>;
  try {
    const source = new LoopBatches(opts.seed, opts.runTag);
    const base = {
      url: server.url,
      source,
      tracker,
      connections: opts.connections,
      ...(opts.lagBound === undefined ? {} : { lagBound: opts.lagBound }),
      ...(opts.rate === undefined ? {} : { rate: opts.rate }),
    };
    const warm = await runLoad({ ...base, seconds: opts.warmupSeconds });
    const t0 = performance.now();
    tracker?.startWindow(t0);
    const c0 = await fetchCounts(server.url, 30_000);
    const d0 = tracker?.deliveries ?? 0;
    const series: Sample[] = [];
    const live = newCounters();
    let last = { events: 0, triggers: 0, decisions: c0.decisions, deliveries: d0 };
    // Once a second: what happened in that second (decisions from /metrics, the rest counted here).
    const sampler = setInterval(() => {
      void fetchCounts(server.url)
        .then((c) => {
          const now = performance.now();
          const deliveries = tracker?.deliveries ?? 0;
          series.push({
            t: Math.round(now - t0) / 1000,
            events: live.events - last.events,
            triggers: live.triggers - last.triggers,
            decisions: c.decisions - last.decisions,
            deliveries: deliveries - last.deliveries,
            outstanding: tracker?.outstanding(now) ?? 0,
          });
          last = { events: live.events, triggers: live.triggers, decisions: c.decisions, deliveries };
        })
        .catch(() => undefined);
    }, 1000);
    const meter = cpuMeter(server.child.pid);
    // Rates are taken at the scheduled end of the run: batches still unanswered then (a paced run against a
    // server that fell behind can have many) finish afterwards but do not count.
    const atEnd = new Promise<{
      t1: number;
      events: number;
      triggers: number;
      d1: number;
      cpu: CpuUse;
      c1: ServerCounts;
    }>((resolve, reject) => {
      setTimeout(() => {
        const snap = {
          t1: performance.now(),
          events: live.events,
          triggers: live.triggers,
          d1: tracker?.deliveries ?? 0,
          cpu: meter.stop(),
        };
        if (tracker !== undefined) tracker.window.to = snap.t1;
        clearInterval(sampler);
        // An overloaded server can take long to answer /metrics: retried, never left unhandled.
        void (async () => {
          for (let attempt = 1; ; attempt++) {
            try {
              resolve({ ...snap, c1: await fetchCounts(server.url, 30_000) });
              return;
            } catch (err) {
              if (attempt === 3) {
                reject(err instanceof Error ? err : new Error(String(err)));
                return;
              }
            }
          }
        })();
      }, opts.seconds * 1000);
    });
    // Handled at once: it may settle while the load is still finishing.
    const settled = atEnd.then(
      (v) => ({ ok: true as const, v }),
      (err: unknown) => ({ ok: false as const, err }),
    );
    const run = await runLoad({ ...base, seconds: opts.seconds, counters: live });
    const end = await settled;
    if (!end.ok) throw end.err;
    const { t1, events, triggers, d1, cpu, c1 } = end.v;
    const backlogAtEnd = tracker?.outstanding(t1) ?? 0;
    const rateAtEnd = tracker?.recentRate(t1) ?? 0;
    // Drain: wait until every acknowledged event was delivered, or deliveries stopped coming; not at all when
    // the backlog would take longer than DRAIN_LIMIT_MS at the current rate (the run fell far behind).
    const drained = tracker !== undefined && backlogAtEnd <= (rateAtEnd * DRAIN_LIMIT_MS) / 1000;
    if (tracker !== undefined && drained) {
      const limit = t1 + DRAIN_LIMIT_MS;
      for (;;) {
        const now = performance.now();
        if (tracker.outstanding(now) === 0 || now > limit) break;
        if (now - Math.max(tracker.lastDeliveryAt, t1) > DRAIN_QUIET_MS) break;
        await sleep(50);
      }
    }
    const drainSeconds = tracker === undefined ? 0 : Math.max(0, tracker.lastDeliveryAt - t1) / 1000;
    const undelivered = tracker?.undelivered ?? 0;
    const secs = (t1 - t0) / 1000;
    const counters = run.counters;
    const triggersPerSec = triggers / secs;
    const deliveriesPerSec = (d1 - d0) / secs;
    const decisions = c1.decisions - c0.decisions;
    const actions = c1.withAction - c0.withAction;
    const actionShare = decisions > 0 ? actions / decisions : 1;
    const deliveredShare = triggersPerSec > 0 ? deliveriesPerSec / triggersPerSec : 0;
    const lag = tracker === undefined ? percentilesMs(latencyHistogram()) : percentilesMs(tracker.lag);
    result = {
      kind: opts.kind,
      ...(opts.rate === undefined ? {} : { rate: opts.rate }),
      ...(opts.rate === undefined ? { connections: opts.connections } : {}),
      ...(opts.lagBound === undefined ? {} : { lagBound: opts.lagBound }),
      seconds: secs,
      eventsPerSec: events / secs,
      triggersPerSec,
      decisionsPerSec: decisions / secs,
      actionsPerSec: actions / secs,
      actionShare,
      deliveriesPerSec,
      lag,
      ack: run.ack,
      deliveredShare,
      lagSamples: tracker?.lag.totalCount ?? 0,
      backlogAtEnd,
      drained,
      drainSeconds,
      undelivered,
      // Keeping up: the events went in at the schedule's rate (paced runs), deliveries match the messages
      // decided on (≥ 95%), and what was left at the end is at most ~2 s of triggering events (the loop's
      // cadence is 200 ms).
      keepsUp:
        tracker !== undefined &&
        (opts.rate === undefined || events / secs >= 0.95 * opts.rate) &&
        deliveriesPerSec >= 0.95 * triggersPerSec * actionShare &&
        backlogAtEnd <= 2 * triggersPerSec + 100,
      waitingShare: run.waitingShare,
      late: run.late,
      skipped: run.skipped,
      load: counters,
      warmup: warm.counters,
      tracker: {
        deliveries: tracker?.deliveries ?? 0,
        matched: tracker?.matched ?? 0,
        duplicates: tracker?.duplicates ?? 0,
        unmatched: tracker?.unmatched ?? 0,
        expired: tracker?.expired ?? 0,
        early: tracker?.earlyCount ?? 0,
        byPath: tracker?.byPath ?? {},
      },
      cpu,
      serverUsPerEvent: (cpu.server * 1e6) / Math.max(1, events),
      series,
      // The measured run in the server's own time line (--cpu-prof starts with the process).
      ...(opts.cpuProfDir === undefined
        ? {}
        : {
            profileWindowMs: [t0 - server.child.startedAt, t1 - server.child.startedAt] as [number, number],
          }),
    };
  } finally {
    // A server with a backlog finishes the engine pass in progress before it exits: not worth waiting for.
    if (!(await stopChild(server.child, 5_000)))
      opts.log(`loop: pathwise still busy 5 s after SIGTERM (a backlog of timers); killed`);
  }
  return { ...result, store: checkStore(db) };
};

// ---------------------------------------------------------------------------------------------------------
// The figure.

/**
 * What one durable commit costs on this disk: 1-row transactions into a WAL database with synchronous = FULL
 * (the product default), back to back for `seconds`, in this process: what each group commit of decisions,
 * delivery receipts or events pays.
 */
export const commitProbe = (dir: string, seconds = 2): { commitsPerSec: number; msPerCommit: number } => {
  const file = `${dir}/commit-probe.db`;
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE IF NOT EXISTS t (v INTEGER)');
    const insert = db.prepare<[number]>('INSERT INTO t (v) VALUES (?)');
    const one = db.transaction((v: number) => insert.run(v));
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < seconds * 1000) one(n++);
    const secs = (performance.now() - t0) / 1000;
    return { commitsPerSec: n / secs, msPerCommit: (secs * 1000) / n };
  } finally {
    db.close();
  }
};

export interface LoopFigure {
  eventsPerBatch: number;
  triggerEvery: number;
  target: number;
  baseline: LoopRun;
  sustainable: LoopRun;
  /** Paced at the target rate. */
  atTarget: LoopRun;
  /** Paced at 80% of the sustainable rate, when the target run fell behind. */
  belowTarget?: LoopRun;
  /**
   * Events/s the loop keeps up with: the sustainable run's events/s, or less if its deliveries fell short
   * (deliveries/s × 5 / the share of decisions that chose a message).
   */
  sustainableEventsPerSec: number;
  /** sustainableEventsPerSec over the baseline's events/s. */
  ratio: number;
  /** Durable 1-row commits/s on this disk (see commitProbe), measured before the runs. */
  commits: { commitsPerSec: number; msPerCommit: number };
  /** Whether the sustainable run was held back by the loop (senders waiting on the gate > 5% of the time). */
  loopLimited: boolean;
  targetMet: boolean;
}

export interface LoopFigureOptions {
  ws: Workspace;
  seconds: number;
  warmupSeconds: number;
  connections: number;
  /** The sustainable run's lag bound, s. */
  lagBound: number;
  seed: number;
  runTag: string;
  log: (msg: string) => void;
}

export const runLoopFigure = async (opts: LoopFigureOptions): Promise<LoopFigure> => {
  const trackerRef: { current: Tracker | undefined } = { current: undefined };
  const receiver = await startReceiver(() => trackerRef.current);
  const common = {
    ws: opts.ws,
    trackerRef,
    seconds: opts.seconds,
    warmupSeconds: opts.warmupSeconds,
    connections: opts.connections,
    log: opts.log,
  };
  const fmt = (r: LoopRun) =>
    `${Math.round(r.eventsPerSec)} events/s, ${Math.round(r.decisionsPerSec)} decisions/s, ` +
    `${Math.round(r.deliveriesPerSec)} deliveries/s, lag p50 ${r.lag.p50.toFixed(0)} ms p99 ${r.lag.p99.toFixed(0)} ms`;
  try {
    const commits = commitProbe(opts.ws.dir);
    opts.log(`loop: this disk does ${Math.round(commits.commitsPerSec)} durable 1-row commits/s`);
    opts.log(`loop: baseline, ingest only (no actions), closed loop, ${opts.connections} connections`);
    const baseline = await oneRun({
      ...common,
      kind: 'baseline',
      receiverUrl: undefined,
      seed: opts.seed,
      runTag: `${opts.runTag}0`,
    });
    opts.log(`loop: baseline ${Math.round(baseline.eventsPerSec)} events/s`);
    opts.log(
      `loop: sustainable rate, closed loop, ingest waits when the loop lags more than ${opts.lagBound} s`,
    );
    const sustainable = await oneRun({
      ...common,
      kind: 'sustainable',
      receiverUrl: receiver.url,
      lagBound: opts.lagBound,
      seed: opts.seed,
      runTag: `${opts.runTag}1`,
    });
    const sustainableEventsPerSec = Math.min(
      sustainable.eventsPerSec,
      (sustainable.deliveriesPerSec * TRIGGER_EVERY) / Math.max(0.5, sustainable.actionShare),
    );
    opts.log(
      `loop: sustainable ${fmt(sustainable)}; senders waited ${(sustainable.waitingShare * 100).toFixed(0)}% ` +
        `of the time -> keeps up with ${Math.round(sustainableEventsPerSec)} events/s`,
    );
    opts.log(`loop: paced at the target, ${TARGET_EVENTS_PER_SEC} events/s`);
    const atTarget = await oneRun({
      ...common,
      kind: 'paced',
      receiverUrl: receiver.url,
      rate: TARGET_EVENTS_PER_SEC,
      seed: opts.seed + 1,
      runTag: `${opts.runTag}2`,
    });
    opts.log(`loop: at ${TARGET_EVENTS_PER_SEC}/s: ${fmt(atTarget)}; keeps up: ${atTarget.keepsUp}`);
    let belowTarget: LoopRun | undefined;
    if (!atTarget.keepsUp) {
      const rate = Math.max(100, Math.round((0.8 * sustainableEventsPerSec) / 100) * 100);
      opts.log(`loop: paced at 80% of the sustainable rate, ${rate} events/s`);
      belowTarget = await oneRun({
        ...common,
        kind: 'paced',
        receiverUrl: receiver.url,
        rate,
        seed: opts.seed + 2,
        runTag: `${opts.runTag}3`,
      });
      opts.log(`loop: at ${rate}/s: ${fmt(belowTarget)}; keeps up: ${belowTarget.keepsUp}`);
    }
    const loopLimited = sustainable.waitingShare > 0.05;
    return {
      eventsPerBatch: 100,
      triggerEvery: TRIGGER_EVERY,
      target: TARGET_EVENTS_PER_SEC,
      baseline,
      sustainable,
      atTarget,
      ...(belowTarget === undefined ? {} : { belowTarget }),
      sustainableEventsPerSec,
      ratio: sustainableEventsPerSec / baseline.eventsPerSec,
      commits,
      loopLimited,
      targetMet: sustainableEventsPerSec >= TARGET_EVENTS_PER_SEC && atTarget.keepsUp,
    };
  } finally {
    trackerRef.current = undefined;
    await receiver.close();
  }
};

/** With --profile: one more closed-loop run like the sustainable one, the server under --cpu-prof (not a figure). */
export const profileLoop = async (opts: LoopFigureOptions & { cpuProfDir: string }): Promise<LoopRun> => {
  const trackerRef: { current: Tracker | undefined } = { current: undefined };
  const receiver = await startReceiver(() => trackerRef.current);
  try {
    return await oneRun({ ...opts, kind: 'sustainable', receiverUrl: receiver.url, trackerRef });
  } finally {
    trackerRef.current = undefined;
    await receiver.close();
  }
};

// ---------------------------------------------------------------------------------------------------------
// Where the server's CPU goes during a loop run (with --profile).

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface LoopStages {
  file: string;
  /** Busy (non-idle) ms of the main thread inside the window. */
  busyMs: number;
  windowMs: number;
  stages: Array<{ stage: string; ms: number; share: number }>;
}

/** What a dist/ module belongs to (store, util and domain modules are skipped: the caller decides). */
const STAGE_OF_MODULE: Array<[RegExp, string]> = [
  [/\/dist\/(ingest|profiles|server)\//, 'ingest (HTTP, validation, profiles, segments)'],
  [/\/dist\/orchestrate\/(dispatcher|email-links)\.js$|\/dist\/channels\//, 'delivery (dispatcher, webhook)'],
  [
    /\/dist\/(decide|learn)\/|\/dist\/orchestrate\/(decision-service|engine|triggers|on-event|rewards|learner|group-writer|keyed-lock|outcome-service)\.js$/,
    'decisions (engine, decision service, model)',
  ],
];
const STAGE_OF_PACKAGE: Array<[RegExp, string]> = [
  [/undici/, 'delivery: fetch (undici)'],
  [/node_modules\/liquidjs\//, 'delivery (dispatcher, webhook)'],
  [
    /node_modules\/(fastify|@fastify|find-my-way|avvio|light-my-request|secure-json-parse|fast-json-stringify|pino|zod)/,
    'ingest (HTTP, validation, profiles, segments)',
  ],
  [/node_modules\/@marcbachmann\/cel-js\//, 'ingest (HTTP, validation, profiles, segments)'],
  [/node_modules\/kysely\//, 'store: reads'],
  [/node_modules\/better-sqlite3\//, 'store: transactions (BEGIN/COMMIT, checkpoints)'],
];

/**
 * Self time of the server's main thread between `fromMs` and `toMs` after the profile started, by stage: each
 * sample goes to the nearest Pathwise module on its stack (store, util and domain modules skipped, so a SQLite
 * statement counts for whoever ran it), else by the package it is in; a store frame with no caller above it
 * (a transaction's BEGIN/COMMIT from the write queue, fsync included) is the store's own.
 */
export const loopStages = (file: string, fromMs: number, toMs: number, read: (f: string) => string) => {
  const p = JSON.parse(read(file)) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const cache = new Map<number, string>();
  const stageOf = (leaf: number): string => {
    const hit = cache.get(leaf);
    if (hit !== undefined) return hit;
    /** The outermost store module on the stack, when no caller above it is known. */
    let store: string | undefined;
    let stage: string | undefined;
    for (let id: number | undefined = leaf; id !== undefined && stage === undefined; id = parent.get(id)) {
      const url = byId.get(id)?.callFrame.url ?? '';
      if (!url.includes('/dist/') || url.includes('/node_modules/')) continue;
      if (/\/dist\/store\//.test(url)) store = url;
      else if (!/\/dist\/(util|domain)\/|\/dist\/errors\.js$/.test(url))
        stage = STAGE_OF_MODULE.find(([re]) => re.test(url))?.[1] ?? 'other Pathwise code';
    }
    if (stage === undefined && store !== undefined)
      stage = /\/store\/sqlite\/(index|checkpointer)\.js$/.test(store)
        ? 'store: transactions (BEGIN/COMMIT, checkpoints)'
        : /reader|hot-reads|cursor/.test(store)
          ? 'store: reads'
          : 'store: writes';
    if (stage === undefined) {
      const leafFrame = byId.get(leaf)?.callFrame;
      const name = leafFrame?.functionName ?? '';
      if (name === '(garbage collector)') stage = 'garbage collector';
      else {
        for (
          let id: number | undefined = leaf;
          id !== undefined && stage === undefined;
          id = parent.get(id)
        ) {
          const url = byId.get(id)?.callFrame.url ?? '';
          stage = STAGE_OF_PACKAGE.find(([re]) => re.test(url))?.[1];
        }
        stage ??= 'other (node internals, timers, sockets)';
      }
    }
    cache.set(leaf, stage);
    return stage;
  };
  const totals = new Map<string, number>();
  let t = 0;
  let busy = 0;
  p.samples.forEach((id, i) => {
    t += (p.timeDeltas[i] ?? 0) / 1000;
    if (t < fromMs || t > toMs) return;
    const name = byId.get(id)?.callFrame.functionName;
    if (name === '(idle)' || name === '(program)') return;
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    busy += dt;
    const s = stageOf(id);
    totals.set(s, (totals.get(s) ?? 0) + dt);
  });
  const result: LoopStages = {
    file,
    busyMs: busy,
    windowMs: toMs - fromMs,
    stages: [...totals]
      .map(([stage, ms]) => ({ stage, ms, share: ms / Math.max(1, busy) }))
      .sort((a, b) => b.ms - a.ms),
  };
  return result;
};
