import { extname } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { modelSchema } from '../../config/index.js';
import { PathwiseError } from '../../errors.js';
import { csvSource } from '../evaluate/read-csv.js';
import { decisionLogSource } from '../evaluate/read-decisions.js';
import { jsonlSource } from '../evaluate/read-jsonl.js';
import type { ColumnSpec, LogSource } from '../evaluate/logged-row.js';
import { reportJson, reportText } from '../evaluate/format.js';
import { Interrupted, runEvaluation, type EvaluationOptions } from '../evaluate/run-evaluation.js';
import type { Io } from '../main.js';
import { regularFileSize } from '../options.js';

interface EvaluateOpts {
  data?: string;
  db?: string;
  format?: string;
  action?: string;
  reward?: string;
  propensity?: string;
  context?: string[];
  learn?: 'replay' | 'split';
  trainFraction?: number;
  seed: number;
  policy?: 'uniform';
  actions?: number;
  json: boolean;
  progress: boolean;
}

const EXTENSIONS: Record<string, 'csv' | 'jsonl'> = { '.csv': 'csv', '.jsonl': 'jsonl', '.ndjson': 'jsonl' };
/** Exit code of a run stopped by Ctrl-C, as shells report 128 + SIGINT. */
const EXIT_INTERRUPTED = 130;

const defaults = {
  trainFraction: 0.5,
  seed: 1,
} as const;

const parseFraction = (value: string): number => {
  const n = Number(value);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError('must be a number between 0 and 1 (exclusive)');
  return n;
};

const parseSeed = (value: string): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('must be a whole number');
  return n;
};

const parseActions = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1');
  return n;
};

const parseColumns = (value: string): string[] => {
  const names = value.split(',').map((s) => s.trim());
  if (names.some((n) => n === '')) throw new InvalidArgumentError('list column names separated by commas');
  return names;
};

const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

const optionError = (detail: string): PathwiseError => new PathwiseError('PW_ERR_EVALUATE_OPTIONS', detail);

/** `--propensity`: a number is the one propensity of every row; anything else names a column. */
const propensityOf = (value: string): string | number => {
  if (!NUMBER.test(value)) return value;
  const p = Number(value);
  if (!(p > 0 && p <= 1)) throw optionError(`--propensity ${value}: a constant propensity must be in (0, 1]`);
  return p;
};

const formatOf = (file: string, given: string | undefined): 'csv' | 'jsonl' => {
  if (given !== undefined) {
    if (given === 'csv' || given === 'jsonl') return given;
    throw optionError(`--format ${JSON.stringify(given)}: use csv or jsonl`);
  }
  const ext = extname(file).toLowerCase();
  const format = Object.hasOwn(EXTENSIONS, ext) ? EXTENSIONS[ext] : undefined;
  if (format === undefined)
    throw optionError(
      `cannot tell the format of ${file} from its extension: pass --format csv or --format jsonl`,
    );
  return format;
};

/** The log to read, from --data (with its columns) or --db. */
const sourceOf = (opts: EvaluateOpts): LogSource => {
  if ((opts.data === undefined) === (opts.db === undefined))
    throw optionError('pass either --data FILE (a CSV or JSONL log) or --db FILE (a Pathwise database)');
  if (opts.db !== undefined) {
    for (const flag of ['format', 'action', 'reward', 'propensity', 'context'] as const) {
      if (opts[flag] !== undefined)
        throw optionError(`--${flag} is for --data files; the decision log in --db has its own columns`);
    }
    return decisionLogSource(opts.db);
  }
  const file = opts.data as string;
  const missing = (['action', 'reward', 'propensity'] as const).filter((f) => opts[f] === undefined);
  if (missing.length > 0)
    throw optionError(`--data needs ${missing.map((f) => `--${f}`).join(', ')} (the columns of the log)`);
  const format = formatOf(file, opts.format);
  regularFileSize(file, 'PW_ERR_EVALUATE_DATA');
  const spec: ColumnSpec = {
    action: opts.action as string,
    reward: opts.reward as string,
    propensity: propensityOf(opts.propensity as string),
    context: opts.context ?? [],
  };
  const withContext = opts.learn !== undefined;
  return format === 'csv' ? csvSource(file, spec, withContext) : jsonlSource(file, spec, withContext);
};

const evaluationOptions = (opts: EvaluateOpts): EvaluationOptions => {
  if (opts.trainFraction !== undefined && opts.learn !== 'split')
    throw optionError('--train-fraction goes with --learn split');
  if (opts.actions !== undefined && opts.policy !== 'uniform')
    throw optionError('--actions goes with --policy uniform (the number of actions it chooses among)');
  const { featureBits, priorVariance, minObservations } = modelSchema.parse({});
  const options: EvaluationOptions = {
    trainFraction: opts.trainFraction ?? defaults.trainFraction,
    seed: opts.seed,
    model: { featureBits, priorVariance, minObservations },
    rewardColumn: opts.reward ?? 'reward',
  };
  if (opts.learn !== undefined) options.learn = opts.learn;
  if (opts.policy === 'uniform')
    options.uniform = opts.actions === undefined ? {} : { actions: opts.actions };
  return options;
};

export const registerEvaluate = (program: Command, io: Io, setExit: (code: number) => void): void => {
  program
    .command('evaluate')
    .description(
      'Estimate policy values offline from logged decisions (a CSV or JSONL file, or the decision log of a ' +
        'Pathwise database) with IPS, self-normalised IPS, doubly robust and replay estimators',
    )
    .option('--data <file>', 'the logged data: CSV with a header row, or JSONL')
    .option('--db <file>', "a Pathwise SQLite database: evaluate the engine's own decision log")
    .addOption(new Option('--format <format>', 'csv or jsonl (default: from the extension)'))
    .option('--action <column>', 'column of the logged action')
    .option('--reward <column>', 'column of the reward (a number; 0/1 for clicks)')
    .option(
      '--propensity <column|number>',
      "column of the logging policy's probability of the logged action, in (0, 1], or one number for every row",
    )
    .option(
      '--context <columns>',
      'context columns, comma-separated (features of the learned policy)',
      parseColumns,
    )
    .addOption(
      new Option('--learn <method>', "also evaluate the engine's learning policy").choices([
        'replay',
        'split',
      ]),
    )
    .option(
      '--train-fraction <f>',
      `--learn split: share of the rows (the first ones) to train on (default: ${defaults.trainFraction})`,
      parseFraction,
    )
    .option('--seed <n>', 'seed of the Thompson draws of --learn replay', parseSeed, defaults.seed)
    .addOption(
      new Option('--policy <policy>', 'also evaluate the uniform random policy').choices(['uniform']),
    )
    .option(
      '--actions <n>',
      '--policy uniform: the number of actions it chooses among (default: the distinct actions in the log)',
      parseActions,
    )
    .option('--json', 'print the estimates as JSON', false)
    .option('--no-progress', 'no progress bar, even on a terminal')
    .action(async (opts: EvaluateOpts) => {
      const options = evaluationOptions(opts);
      const source = sourceOf(opts);
      let stop = false;
      void io.stopSignal.then(() => {
        stop = true;
      });
      const bar = opts.progress && process.stderr.isTTY === true ? progressBar(source.size) : undefined;
      options.shouldStop = () => stop;
      if (bar !== undefined) options.onProgress = bar.update;
      let report;
      try {
        report = await runEvaluation(source, options);
      } catch (err) {
        if (!(err instanceof Interrupted)) throw err;
        io.stderr(`pathwise: ${err.message}\n`);
        setExit(EXIT_INTERRUPTED);
        return;
      } finally {
        bar?.stop();
      }
      io.stdout(opts.json ? `${JSON.stringify(reportJson(report))}\n` : reportText(report));
    });
};

/** A bar over bytes read (rows for the database, whose size is not known), on terminals only. */
const progressBar = (
  size: number,
): { update: (pass: string, position: number, rows: number) => void; stop: () => void } => {
  const bar = new cliProgress.SingleBar(
    {
      format:
        size > 0 ? '{pass} {bar} {percentage}% | {rows} rows | ETA {eta_formatted}' : '{pass} {rows} rows',
      stream: process.stderr,
      clearOnComplete: true,
      hideCursor: true,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  // Started by the first update, so a two-pass run shows which pass it is in.
  let pass = '';
  return {
    update: (p, position, rows) => {
      if (p !== pass) {
        if (pass !== '') bar.stop();
        pass = p;
        bar.start(Math.max(size, 1), 0, { pass: p === 'scan' ? 'scanning  ' : 'evaluating', rows: 0 });
      }
      bar.update(size > 0 ? position : 0, { rows });
    },
    stop: () => {
      if (pass !== '') bar.stop();
    },
  };
};
