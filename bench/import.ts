import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { writeJsonl } from './events.js';
import { runToExit, spawnNode } from './servers.js';
import { SOURCE, type Workspace } from './workspace.js';

/**
 * Figure 2: `pathwise import` of a JSONL file (wall-clock events/s, peak RSS of the child), beside a child
 * that only reads and JSON.parses the same file line by line.
 */

export interface ChildRun {
  seconds: number;
  eventsPerSec: number;
  peakRssMb: number;
  /** CPU seconds (user + system) of the child. */
  cpuSeconds: number;
}

export interface ImportRun {
  events: number;
  fileMb: number;
  generateSeconds: number;
  baseline: ChildRun;
  pathwise: ChildRun & { args: string[] };
  stored: StoreCounts;
  ok: boolean;
}

export interface StoreCounts {
  events: number;
  deadLetters: number;
  profiles: number;
}

/** Counts straight from the SQLite file, after the writer has exited. */
export const countStore = (db: string): StoreCounts => {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  try {
    const count = (sql: string, ...params: string[]) => (conn.prepare(sql).get(...params) as { n: number }).n;
    return {
      // Our source only: the log also holds Pathwise's own events (Segment Entered / Exited).
      events: count('SELECT count(*) AS n FROM events WHERE source = ?', SOURCE),
      deadLetters: count('SELECT count(*) AS n FROM dead_letters'),
      profiles: count('SELECT count(*) AS n FROM profiles WHERE merged_into IS NULL'),
    };
  } finally {
    conn.close();
  }
};

/** The command line for `pathwise import`, fitted to the options its --help lists. */
const importArgs = async (file: string, config: string, db: string): Promise<string[]> => {
  const help = spawnNode('pathwise import --help', ['bin/pathwise.js', 'import', '--help']);
  await help.exited;
  const text = help.output();
  if (!/pathwise import/.test(text)) throw new Error(`\`pathwise import\` is not available:\n${text}`);
  const has = (flag: string) => new RegExp(`${flag}\\b`).test(text);
  const args = ['bin/pathwise.js', 'import'];
  args.push(...(has('--file') ? ['--file', file] : has('--input') ? ['--input', file] : [file]));
  args.push('--config', config, '--db', db);
  if (has('--source')) args.push('--source', SOURCE);
  if (has('--format')) args.push('--format', 'jsonl');
  if (has('--no-progress')) args.push('--no-progress');
  return args;
};

const childRun = (
  r: { seconds: number; peakRssMb: number; cpuSeconds: number },
  events: number,
): ChildRun => ({
  seconds: r.seconds,
  eventsPerSec: events / r.seconds,
  peakRssMb: r.peakRssMb,
  cpuSeconds: r.cpuSeconds,
});

export const runImport = async (
  ws: Workspace,
  opts: { events: number; seed: number; runTag: string; timeoutMs: number },
): Promise<ImportRun> => {
  const file = join(ws.dir, 'events.jsonl');
  const t0 = performance.now();
  await writeJsonl(file, opts.events, opts.seed, opts.runTag);
  const generateSeconds = (performance.now() - t0) / 1000;
  const fileMb = statSync(file).size / 1024 / 1024;

  const parser = spawnNode('parse-baseline', ['--import', 'tsx', 'bench/parse-baseline.ts', file]);
  const base = await runToExit(parser, opts.timeoutMs);
  const parsed = /"lines":(\d+)/.exec(parser.output())?.[1];
  if (base.code !== 0 || Number(parsed) !== opts.events) {
    throw new Error(`parse baseline failed (exit ${base.code}, ${parsed} lines):\n${parser.output()}`);
  }

  const db = ws.db('import');
  const args = await importArgs(file, ws.config, db);
  const child = spawnNode('pathwise import', args, { PATHWISE_LOG_LEVEL: 'warn' });
  const run = await runToExit(child, opts.timeoutMs);
  if (run.code !== 0) throw new Error(`pathwise import exited ${run.code}:\n${child.output()}`);

  const stored = countStore(db);
  return {
    events: opts.events,
    fileMb,
    generateSeconds,
    baseline: childRun(base, opts.events),
    pathwise: { ...childRun(run, opts.events), args },
    stored,
    ok: stored.events === opts.events && stored.deadLetters === 0,
  };
};
