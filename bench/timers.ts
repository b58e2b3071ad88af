import Database from 'better-sqlite3';
import { randomFillSync } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Timer } from '../src/domain/index.js';
import type * as SqliteLib from '../src/store/sqlite/index.js';
import { seededRng } from './events.js';
import { machineBusySeconds, ROOT, runToExit, spawnNode, type CpuUse } from './servers.js';

/**
 * Figure `timers`: the durable timer store. In a child process, `n` pending `decide` timers are inserted (10k
 * per transaction, due times spread at random over the hour before `now`), then fired as the engine does it
 * minus the decision: `dueTimers(now, 1000)` on the reader, then one write transaction deleting those 1000,
 * until none is left or `fireSeconds` have passed. Three children, each on its own temp SQLite file (WAL,
 * synchronous = FULL, the store's 32 MB page cache):
 *
 * - `bare`: better-sqlite3 directly, a table with the same columns and one index on due_at; insert with a
 *   prepared statement, fire with `SELECT … WHERE due_at <= ? ORDER BY due_at, seq LIMIT 1000` and a DELETE by
 *   rowid. Payloads are JSON-encoded on insert and decoded on read, as any consumer must.
 * - `bare-schema`: the same, on the store's own table and indexes (UNIQUE id, due_at, profile_id) and deleting
 *   by id, as the store does: the difference to `bare` is the schema's cost, the rest is the code path.
 * - `store`: `openSqliteStore` from dist/ (kysely reader, async writer, checkpointer thread), `addTimer` /
 *   `dueTimers` / `deleteTimer`, exactly the port the engine uses.
 *
 * Peak RSS is the child's VmHWM (whole process), sampled by the parent and read by the child after each phase.
 */

export const TIMER_MODES = ['bare', 'bare-schema', 'store'] as const;
export type TimerMode = (typeof TIMER_MODES)[number];

const INSERT_BATCH = 10_000;
const FIRE_BATCH = 1_000;
const WINDOW_MS = 3_600_000;
const PROFILES = 100_000;

export interface TimerPhase {
  rows: number;
  seconds: number;
  perSec: number;
  /** Transactions (insert: 10k rows each; fire: one per dueTimers page). */
  transactions: number;
  /** VmHWM of the child at the end of the phase, MB. */
  peakRssMb: number;
}

export interface TimerRun {
  mode: TimerMode;
  insert: TimerPhase;
  fire: TimerPhase;
  /** Time spent in the reads (`dueTimers` / SELECT) of the firing phase, s (the rest: the delete transactions). */
  fireReadSeconds: number;
  /** Database + WAL on disk after the inserts, MB. */
  fileMbAfterInsert: number;
  /** Timers left after firing and timers fired: they add up to n (all fired unless the time limit came first). */
  left: number;
  fired: number;
  /** Mean serialized payload, bytes. */
  payloadBytes: number;
  /** Whole child, measured by the parent. */
  wallSeconds: number;
  peakRssMb: number;
  cpu: CpuUse;
}

export interface TimersFigure {
  timers: number;
  insertBatch: number;
  fireBatch: number;
  /** Time limit of the firing phase. */
  fireSeconds: number;
  runs: Record<TimerMode, TimerRun>;
}

const vmHwmMb = (): number => {
  const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 2 ** 20;
};

const idBytes = Buffer.alloc(12 * 1024);
let idNext = 1024;
/** The product's id shape (96 random bits, 16 base64url characters), drawn 1024 at a time. */
const newId = (): string => {
  if (idNext === 1024) {
    randomFillSync(idBytes);
    idNext = 0;
  }
  const at = idNext++ * 12;
  return idBytes.toString('base64url', at, at + 12);
};

/** One batch of `decide` timers as ingest writes them: a track signal with a few properties. */
const makeTimers = (rng: () => number, count: number, now: number, seq: number): Timer[] =>
  Array.from({ length: count }, (_, i) => ({
    id: newId(),
    kind: 'decide' as const,
    profileId: `p${String(Math.floor(rng() * PROFILES)).padStart(15, '0')}`,
    dueAt: now - Math.floor(rng() * WINDOW_MS),
    payload: {
      signal: {
        kind: 'event',
        event: 'Checkout Started',
        messageId: `bt-${String(seq + i).padStart(10, '0')}`,
        properties: { cart_value: Math.floor(rng() * 30_000) / 100, items: 1 + Math.floor(rng() * 5) },
      },
    },
  }));

const pragmas = (db: Database.Database) => {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma(`cache_size = -${32 * 1024}`);
  db.pragma('temp_store = MEMORY');
};

interface Backend {
  insert(batch: Timer[]): Promise<void>;
  /** One page of due timers; returns them (ids and rowids as the backend needs them). */
  due(now: number): Promise<unknown[]>;
  remove(rows: unknown[]): Promise<void>;
  count(): Promise<number>;
  close(): Promise<void>;
}

const bareBackend = (file: string, storeSchema: boolean): Backend => {
  const db = new Database(file);
  pragmas(db);
  db.exec(
    `CREATE TABLE timers (seq INTEGER PRIMARY KEY, id TEXT NOT NULL${storeSchema ? ' UNIQUE' : ''},
       kind TEXT NOT NULL, profile_id TEXT NOT NULL, due_at INTEGER NOT NULL, payload TEXT NOT NULL);
     CREATE INDEX timers_due ON timers (due_at);
     ${storeSchema ? 'CREATE INDEX timers_profile ON timers (profile_id);' : ''}`,
  );
  const insert = db.prepare(
    'INSERT INTO timers (id, kind, profile_id, due_at, payload) VALUES (?, ?, ?, ?, ?)',
  );
  type Row = { seq: number; id: string; kind: string; profile_id: string; due_at: number; payload: string };
  const due = db.prepare<[number, number], Row>(
    'SELECT seq, id, kind, profile_id, due_at, payload FROM timers WHERE due_at <= ? ORDER BY due_at, seq LIMIT ?',
  );
  const delBySeq = db.prepare<[number]>('DELETE FROM timers WHERE seq = ?');
  const delById = db.prepare<[string]>('DELETE FROM timers WHERE id = ?');
  const insertAll = db.transaction((batch: Timer[]) => {
    for (const t of batch) insert.run(t.id, t.kind, t.profileId, t.dueAt, JSON.stringify(t.payload));
  });
  type Due = { seq: number; timer: Timer };
  const removeAll = db.transaction((rows: Due[]) => {
    for (const r of rows) {
      if (storeSchema) delById.run(r.timer.id);
      else delBySeq.run(r.seq);
    }
  });
  return {
    insert: async (batch) => insertAll(batch),
    due: async (now) =>
      due.all(now, FIRE_BATCH).map((r): Due => ({
        seq: r.seq,
        timer: {
          id: r.id,
          kind: r.kind as Timer['kind'],
          profileId: r.profile_id,
          dueAt: r.due_at,
          payload: JSON.parse(r.payload) as Timer['payload'],
        },
      })),
    remove: async (rows) => removeAll(rows as Due[]),
    count: async () => (db.prepare('SELECT count(*) AS n FROM timers').get() as { n: number }).n,
    close: async () => {
      db.close();
    },
  };
};

const storeBackend = async (file: string): Promise<Backend> => {
  const lib = (await import(
    pathToFileURL(join(ROOT, 'dist/store/sqlite/index.js')).href
  )) as typeof SqliteLib;
  const store = await lib.openSqliteStore({ file, synchronous: 'full' });
  await store.migrate();
  return {
    insert: (batch) =>
      store.write(async (w) => {
        for (const t of batch) await w.addTimer(t);
      }),
    due: (now) => store.read.dueTimers(now, FIRE_BATCH),
    remove: (rows) =>
      store.write(async (w) => {
        for (const t of rows as Timer[]) await w.deleteTimer(t.id);
      }),
    count: () => store.read.countTimers(),
    close: () => store.close(),
  };
};

const fileMb = (file: string): number =>
  ['', '-wal'].reduce((s, ext) => {
    try {
      return s + statSync(file + ext).size;
    } catch {
      return s;
    }
  }, 0) /
  2 ** 20;

const child = async (opts: {
  mode: TimerMode;
  n: number;
  fireSeconds: number;
  db: string;
  out: string;
}): Promise<void> => {
  const backend =
    opts.mode === 'store' ? await storeBackend(opts.db) : bareBackend(opts.db, opts.mode === 'bare-schema');
  const rng = seededRng(11);
  const now = Date.now();
  let insertMs = 0;
  let payloadBytes = 0;
  let batches = 0;
  for (let done = 0; done < opts.n; done += INSERT_BATCH) {
    // Built outside the clock: the figure is the store's, not the generator's.
    const batch = makeTimers(rng, Math.min(INSERT_BATCH, opts.n - done), now, done);
    if (done === 0)
      payloadBytes = batch.reduce((s, t) => s + JSON.stringify(t.payload).length, 0) / batch.length;
    const t0 = performance.now();
    await backend.insert(batch);
    insertMs += performance.now() - t0;
    batches++;
  }
  const insert: TimerPhase = {
    rows: opts.n,
    seconds: insertMs / 1000,
    perSec: opts.n / (insertMs / 1000),
    transactions: batches,
    peakRssMb: vmHwmMb(),
  };
  const fileMbAfterInsert = fileMb(opts.db);
  let fired = 0;
  let pages = 0;
  let readMs = 0;
  const t0 = performance.now();
  const fireEnd = t0 + opts.fireSeconds * 1000;
  while (performance.now() < fireEnd) {
    const r0 = performance.now();
    const due = await backend.due(now);
    readMs += performance.now() - r0;
    if (due.length === 0) break;
    await backend.remove(due);
    fired += due.length;
    pages++;
  }
  const fireMs = performance.now() - t0;
  const fire: TimerPhase = {
    rows: fired,
    seconds: fireMs / 1000,
    perSec: fired / (fireMs / 1000),
    transactions: pages,
    peakRssMb: vmHwmMb(),
  };
  const left = await backend.count();
  await backend.close();
  const out = {
    mode: opts.mode,
    insert,
    fire,
    fireReadSeconds: readMs / 1000,
    fileMbAfterInsert,
    left,
    fired,
    payloadBytes,
  };
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, JSON.stringify(out));
};

type ChildOut = Omit<TimerRun, 'wallSeconds' | 'peakRssMb' | 'cpu'>;

const runChild = async (
  mode: TimerMode,
  opts: { dir: string; timers: number; fireSeconds: number },
): Promise<TimerRun> => {
  const out = join(opts.dir, `timers-${mode}.json`);
  const db = join(opts.dir, `timers-${mode}.db`);
  const args = [
    '--import',
    'tsx',
    'bench/timers.ts',
    '--child',
    mode,
    '--n',
    String(opts.timers),
    '--fire-seconds',
    String(opts.fireSeconds),
    '--db',
    db,
    '--out',
    out,
  ];
  const machine0 = machineBusySeconds();
  const self0 = process.cpuUsage();
  const c = spawnNode(`timers-${mode}`, args);
  // Inserts take ~15-30 s per million rows here; generous, the overall limit still applies.
  const run = await runToExit(c, (opts.fireSeconds + 60 + (opts.timers / 1e6) * 180) * 1000);
  const self = process.cpuUsage(self0);
  const client = (self.user + self.system) / 1e6;
  const machine = machineBusySeconds() - machine0;
  if (run.code !== 0)
    throw new Error(`bench/timers.ts --child ${mode} exited with ${run.code}:\n${c.output()}`);
  const result = JSON.parse(readFileSync(out, 'utf8')) as ChildOut;
  return {
    ...result,
    wallSeconds: run.seconds,
    peakRssMb: run.peakRssMb,
    cpu: {
      wall: run.seconds,
      server: run.cpuSeconds,
      client,
      other: Math.max(0, machine - run.cpuSeconds - client),
    },
  };
};

/** The figure: the two baselines first, then the store, each in its own child on its own file. */
export const runTimers = async (opts: {
  dir: string;
  timers: number;
  /** The firing phase stops after this long (or when no timer is left). */
  fireSeconds: number;
  log: (msg: string) => void;
}): Promise<TimersFigure> => {
  const runs = {} as Record<TimerMode, TimerRun>;
  for (const mode of TIMER_MODES) {
    const r = await runChild(mode, opts);
    runs[mode] = r;
    opts.log(
      `timers: ${mode}: insert ${Math.round(r.insert.perSec)}/s, fire ${Math.round(r.fire.perSec)}/s, ` +
        `peak RSS ${r.peakRssMb.toFixed(0)} MB`,
    );
  }
  return {
    timers: opts.timers,
    insertBatch: INSERT_BATCH,
    fireBatch: FIRE_BATCH,
    fireSeconds: opts.fireSeconds,
    runs,
  };
};

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      n: { type: 'string', default: '1000000' },
      'fire-seconds': { type: 'string', default: '30' },
      db: { type: 'string' },
      out: { type: 'string', default: join(ROOT, 'bench/out/timers.json') },
    },
  });
  const mode = values.child as TimerMode | undefined;
  if (mode === undefined || !TIMER_MODES.includes(mode) || values.db === undefined)
    throw new Error(
      `usage: bench/timers.ts --child ${TIMER_MODES.join('|')} --db <file> [--n 1000000] [--out file]`,
    );
  await child({
    mode,
    n: Number(values.n),
    fireSeconds: Number(values['fire-seconds']),
    db: values.db,
    out: values.out,
  });
}
