import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse';
import { seededRng } from '../src/learn/index.js';
import { ROOT, samplePeakRss } from './servers.js';

/**
 * Figure 8: `pathwise evaluate` on a generated log of 1,000,000 rows with 50 actions and three context columns
 * (`bench/evaluate.ts`): wall-clock seconds from spawn to exit, rows/s and the child's peak RSS, for the plain
 * run (logging policy and every action with IPS, SNIPS and DR, plus the uniform policy), `--learn split` and
 * `--learn replay`. Target: ≤ 30 s each for 1M rows, with memory that does not grow with the file.
 * Baseline: a child that only streams the same file through csv-parse (with the options evaluate uses) and counts
 * the rows, so the ratio shows what the estimators and the model add to reading the file.
 */

export interface EvaluateRun {
  mode: 'plain' | 'split' | 'replay';
  args: string[];
  seconds: number;
  rowsPerSec: number;
  peakRssMb: number;
  cpuSeconds: number;
  /** Rows the command reported (must equal the rows written). */
  rows: number;
  /** The headline estimates it printed, for a sanity look. */
  logging: number | null;
  learned: Record<string, number | null>;
}

export interface EvaluateFigure {
  rows: number;
  actions: number;
  fileMb: number;
  generateSeconds: number;
  baseline: { seconds: number; rowsPerSec: number; peakRssMb: number };
  runs: EvaluateRun[];
}

const ACTIONS = 50;
const SEGMENTS = ['new', 'casual', 'loyal', 'vip', 'lapsed'];
const DEVICES = ['ios', 'android', 'web'];

/**
 * Writes the log: a context (segment, device, a numeric score), a logging policy that is ε-greedy around a
 * per-segment favourite (80% uniform over the 50 actions, 20% on the favourite), so propensities are 0.016 or
 * 0.216, and a click whose probability depends on the action and the segment (2% base, 6% when they match).
 */
export const writeLog = async (file: string, rows: number, seed: number): Promise<void> => {
  const rng = seededRng(seed);
  const out = createWriteStream(file);
  const uniformShare = 0.8 / ACTIONS;
  let chunk = 'action,reward,propensity,segment,device,score\n';
  for (let i = 0; i < rows; i++) {
    const s = Math.floor(rng.next() * SEGMENTS.length);
    const favourite = (s * 7) % ACTIONS;
    const a = rng.next() < 0.2 ? favourite : Math.floor(rng.next() * ACTIONS);
    const p = a === favourite ? uniformShare + 0.2 : uniformShare;
    const click = rng.next() < (a % SEGMENTS.length === s ? 0.06 : 0.02) ? 1 : 0;
    const device = DEVICES[Math.floor(rng.next() * DEVICES.length)] as string;
    const score = Math.round(rng.next() * 1000) / 10;
    chunk += `a${a},${click},${p},${SEGMENTS[s] as string},${device},${score}\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
};

/** Runs `node <args>` in a child to its end, with its peak RSS; rejects on a non-zero exit. */
const runChild = async (args: string[], timeoutMs: number) => {
  const started = performance.now();
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (proc.pid === undefined) throw new Error(`could not start node ${args.join(' ')}`);
  const rss = samplePeakRss(proc.pid);
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  proc.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-4000)));
  const [code, signal] = (await once(proc, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  const seconds = (performance.now() - started) / 1000;
  const peakRssMb = rss.stop();
  if (code !== 0) throw new Error(`node ${args.join(' ')} exited ${code ?? signal}:\n${stderr}`);
  return { seconds, peakRssMb, cpuSeconds: rss.cpu(), stdout };
};

/** The build in dist/ when it has `evaluate`, else src/ through tsx. */
const launcher = (): { args: string[]; built: boolean } => {
  const built = existsSync(join(ROOT, 'dist/cli/commands/evaluate.js'));
  return { args: built ? ['bin/pathwise.js'] : ['--import', 'tsx', 'bin/pathwise-dev.js'], built };
};

/** The baseline child: csv-parse over the file, as evaluate configures it, counting rows. */
const parseOnly = async (file: string): Promise<void> => {
  const parser = createReadStream(file).pipe(parse({ bom: true, trim: true, relax_column_count: true }));
  let rows = -1; // the header
  for await (const _record of parser as AsyncIterable<string[]>) rows++;
  process.stdout.write(`${JSON.stringify({ rows })}\n`);
};

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === '--parse-only') {
  await parseOnly(process.argv[3] as string);
}

interface JsonEstimate {
  value: number | null;
}

export const runEvaluate = async (opts: {
  dir: string;
  rows: number;
  seed: number;
  timeoutMs: number;
  log: (msg: string) => void;
}): Promise<EvaluateFigure> => {
  const file = join(opts.dir, 'logged.csv');
  const t0 = performance.now();
  await writeLog(file, opts.rows, opts.seed);
  const generateSeconds = (performance.now() - t0) / 1000;
  const fileMb = statSync(file).size / 1024 / 1024;
  const base = [
    'evaluate',
    '--data',
    file,
    '--action',
    'action',
    '--reward',
    'reward',
    '--propensity',
    'propensity',
  ];
  const modes: Array<[EvaluateRun['mode'], string[]]> = [
    ['plain', ['--policy', 'uniform']],
    ['split', ['--context', 'segment,device,score', '--learn', 'split']],
    ['replay', ['--context', 'segment,device,score', '--learn', 'replay']],
  ];
  const b = await runChild(['--import', 'tsx', 'bench/evaluate.ts', '--parse-only', file], opts.timeoutMs);
  const parsed = (JSON.parse(b.stdout) as { rows: number }).rows;
  if (parsed !== opts.rows) throw new Error(`parse baseline read ${parsed} rows, expected ${opts.rows}`);
  const baseline = { seconds: b.seconds, rowsPerSec: parsed / b.seconds, peakRssMb: b.peakRssMb };
  opts.log(`evaluate: csv-parse baseline ${b.seconds.toFixed(1)} s, peak RSS ${b.peakRssMb.toFixed(0)} MB`);
  const run = launcher();
  const runs: EvaluateRun[] = [];
  for (const [mode, extra] of modes) {
    const args = [...base, ...extra, '--json', '--no-progress'];
    const r = await runChild([...run.args, ...args], opts.timeoutMs);
    const out = JSON.parse(r.stdout) as {
      rows: number;
      logging: JsonEstimate;
      learned?: Record<string, JsonEstimate>;
      uniform?: Record<string, JsonEstimate | number>;
    };
    const learned = Object.fromEntries(Object.entries(out.learned ?? {}).map(([k, e]) => [k, e.value]));
    if (mode === 'plain' && out.uniform !== undefined)
      learned['uniform snips'] = (out.uniform.snips as JsonEstimate).value;
    runs.push({
      mode,
      args: args.map((a) => (a === file ? '<log.csv>' : a)),
      seconds: r.seconds,
      rowsPerSec: out.rows / r.seconds,
      peakRssMb: r.peakRssMb,
      cpuSeconds: r.cpuSeconds,
      rows: out.rows,
      logging: out.logging.value,
      learned,
    });
    opts.log(
      `evaluate ${mode}: ${r.seconds.toFixed(1)} s, ${Math.round(out.rows / r.seconds)} rows/s, ` +
        `peak RSS ${r.peakRssMb.toFixed(0)} MB${run.built ? '' : ' (src/ through tsx: dist/ has no evaluate)'}`,
    );
  }
  if (runs.some((r) => r.rows !== opts.rows))
    throw new Error(`evaluate reported ${runs.map((r) => r.rows).join(' / ')} rows, expected ${opts.rows}`);
  return { rows: opts.rows, actions: ACTIONS, fileMb, generateSeconds, baseline, runs };
};
