import type { JsonObject, SparseFeatures } from '../../domain/index.js';
import { PathwiseError } from '../../errors.js';
import { BanditModel, hashFeatures, seededRng, type ModelSettings } from '../../learn/index.js';
import {
  ActionValues,
  OnPolicyMean,
  PolicyEvaluation,
  ReplayLearning,
  RunningRewardModel,
  greedyPolicy,
  type Distribution,
  type Estimate,
  type LoggedRecord,
  type OffPolicyEstimates,
  type Policy,
} from '../../learn/ope/index.js';
import type { ContextValue, LoggedRow, LogSource } from './logged-row.js';

/**
 * Distinct actions an evaluation accepts: the per-action estimates cost O(K) per row, and a column with more
 * distinct values than this is more likely an id than an action.
 */
export const MAX_ACTIONS = 1000;
/** Rows between progress callbacks and stop checks. */
const TICK = 4096;

export interface EvaluationOptions {
  /** Also evaluate the engine's learning policy: replay (Li et al. 2011) or train on a prefix, then IPS/SNIPS/DR. */
  learn?: 'replay' | 'split';
  /** --learn split: the share of rows the model trains on, in (0, 1). */
  trainFraction: number;
  /** Seeds the Thompson draws of --learn replay. */
  seed: number;
  /** Evaluate the uniform random policy, over `actions` actions (default: the distinct actions of the log). */
  uniform?: { actions?: number };
  /** The learning policy's model settings (the workspace defaults). */
  model: ModelSettings;
  /** The reward's column name, for messages. */
  rewardColumn: string;
  onProgress?: (pass: 'scan' | 'evaluate', position: number, rows: number) => void;
  shouldStop?: () => boolean;
}

export interface ActionReport {
  label: string;
  /** Rows that logged this action. */
  logged: number;
  estimates: OffPolicyEstimates;
}

export interface EvaluationReport {
  source: string;
  rows: number;
  /** --learn split: rows the model trained on (the first ones); the learned estimates use the rest. */
  trainRows?: number;
  logging: Estimate;
  actions: ActionReport[];
  uniform?: OffPolicyEstimates & { actions: number };
  learned?: { replay: Estimate } | OffPolicyEstimates;
  elapsedMs: number;
}

/** What a first pass learns, when the main pass needs it up front. */
interface Scan {
  rows: number;
  actions: number;
}

/** Thrown when `shouldStop` says so (Ctrl-C): there is no estimate of a partly read log. */
export class Interrupted extends Error {
  constructor() {
    super('interrupted before the end of the log: no estimate');
    this.name = 'Interrupted';
  }
}

const stopped = (): Interrupted => new Interrupted();

/** A first pass: the row count (for --learn split) and the number of distinct actions (for the uniform policy). */
const scan = async (source: LogSource, opts: EvaluationOptions): Promise<Scan> => {
  const pass = source.open();
  const seen = new Set<string>();
  let rows = 0;
  for await (const row of pass.rows) {
    if (!seen.has(row.action)) {
      seen.add(row.action);
      if (seen.size > MAX_ACTIONS) throw tooManyActions(source, row);
    }
    if (++rows % TICK === 0) {
      opts.onProgress?.('scan', pass.position(), rows);
      if (opts.shouldStop?.() === true) throw stopped();
    }
  }
  return { rows, actions: seen.size };
};

const tooManyActions = (source: LogSource, row: LoggedRow): PathwiseError =>
  new PathwiseError(
    'PW_ERR_EVALUATE_DATA',
    `${source.name} ${row.where}: more than ${MAX_ACTIONS} distinct actions; is --action the right column?`,
  );

/** The engine's features for a row: hashed context columns (files), or the logged vector fitted to `bits`. */
const featuresOf = (row: LoggedRow, bits: number): SparseFeatures => {
  if (row.features !== undefined) return fitFeatures(row.features, bits);
  const context = (row.context ?? {}) as Record<string, ContextValue>;
  // at: 0 makes the time features constant: a file's rows carry no decision time the engine would read.
  return hashFeatures(
    { traits: {}, computed: {}, segments: [], context: context as JsonObject, at: 0 },
    bits,
  );
};

/**
 * A logged vector hashed with more bits than the model has: slots are masked down (the bias slot stays the bias
 * slot, as biasIndex is the hash masked) and values of slots that now coincide are summed.
 */
const fitFeatures = (x: SparseFeatures, bits: number): SparseFeatures => {
  const mask = (1 << bits) - 1;
  if (x.idx.every((i) => i <= mask)) return x;
  const merged = new Map<number, number>();
  x.idx.forEach((i, k) => merged.set(i & mask, (merged.get(i & mask) ?? 0) + (x.val[k] ?? 0)));
  return { idx: [...merged.keys()], val: [...merged.values()] };
};

/**
 * Streams a log once (twice when --learn split needs the row count, or the uniform policy the number of actions
 * and no --actions was given) and returns every estimate. Memory is O(actions), whatever the number of rows.
 */
export const runEvaluation = async (
  source: LogSource,
  opts: EvaluationOptions,
): Promise<EvaluationReport> => {
  const started = performance.now();
  const needScan =
    opts.learn === 'split' || (opts.uniform !== undefined && opts.uniform.actions === undefined);
  const first = needScan ? await scan(source, opts) : undefined;
  const uniformActions = opts.uniform === undefined ? undefined : (opts.uniform.actions ?? first?.actions);
  let trainRows: number | undefined;
  if (opts.learn === 'split') {
    const total = first?.rows ?? 0;
    trainRows = Math.floor(total * opts.trainFraction);
    if (trainRows < 1 || trainRows >= total) {
      throw new PathwiseError(
        'PW_ERR_EVALUATE_OPTIONS',
        `--train-fraction ${opts.trainFraction} of ${total} rows leaves no rows to ${trainRows < 1 ? 'train on' : 'evaluate on'}`,
      );
    }
  }

  const index = new Map<string, number>();
  const labels: string[] = [];
  const logged: number[] = [];
  const q = new RunningRewardModel();
  const logging = new OnPolicyMean();
  const values = new ActionValues();
  const uniformTarget: Distribution | undefined =
    uniformActions === undefined ? undefined : { kind: 'uniform', actions: uniformActions };
  const uniformEval = uniformTarget === undefined ? undefined : PolicyEvaluation.empty();
  const learning = opts.learn !== undefined;
  const model = learning ? new BanditModel(opts.model) : undefined;
  const replay =
    opts.learn === 'replay' && model !== undefined
      ? new ReplayLearning(model, seededRng(opts.seed))
      : undefined;
  const learnedEval = opts.learn === 'split' ? PolicyEvaluation.empty() : undefined;
  let frozen: Policy<SparseFeatures> | undefined;

  const pass = source.open();
  let t = 0;
  for await (const row of pass.rows) {
    let a = index.get(row.action);
    if (a === undefined) {
      a = labels.length;
      if (a >= MAX_ACTIONS) throw tooManyActions(source, row);
      if (uniformActions !== undefined && a >= uniformActions) {
        throw new PathwiseError(
          'PW_ERR_EVALUATE_OPTIONS',
          `--actions ${uniformActions}, but ${source.name} ${row.where} logs action ${JSON.stringify(row.action)}, the ${a + 1}th distinct one`,
        );
      }
      index.set(row.action, a);
      labels.push(row.action);
      logged.push(0);
    }
    logged[a] = (logged[a] as number) + 1;
    const record: LoggedRecord<SparseFeatures | null> = {
      action: a,
      reward: row.reward,
      propensity: row.propensity,
      context: null,
    };
    logging.add(row.reward);
    values.add(record, q);
    if (uniformEval !== undefined) uniformEval.add(record, uniformTarget as Distribution, q);
    if (model !== undefined) {
      if (!(row.reward >= 0 && row.reward <= 1)) {
        throw new PathwiseError(
          'PW_ERR_EVALUATE_DATA',
          `${source.name} ${row.where}, column "${opts.rewardColumn}": ${row.reward} is not a reward in [0, 1], which --learn needs (the engine learns probabilities)`,
          { field: opts.rewardColumn },
        );
      }
      const x = featuresOf(row, opts.model.featureBits);
      const withX: LoggedRecord<SparseFeatures> = { ...record, context: x };
      if (replay !== undefined) replay.add(withX, labels);
      else if (t < (trainRows as number)) model.update(labels[a] as string, x, row.reward);
      else {
        // Frozen over the actions the model trained on: an action first logged later is never chosen.
        frozen ??= greedyPolicy(model, labels.slice());
        (learnedEval as PolicyEvaluation).add(withX, frozen(x), q);
      }
    }
    q.learn(a, row.reward);
    if (++t % TICK === 0) {
      opts.onProgress?.('evaluate', pass.position(), t);
      if (opts.shouldStop?.() === true) throw stopped();
    }
  }
  if (t === 0) throw new PathwiseError('PW_ERR_EVALUATE_DATA', `${source.name}: no rows to evaluate`);

  const report: EvaluationReport = {
    source: source.name,
    rows: t,
    logging: logging.estimate(),
    actions: labels.map((label, i) => ({
      label,
      logged: logged[i] as number,
      estimates: values.estimates(i),
    })),
    elapsedMs: performance.now() - started,
  };
  if (trainRows !== undefined) report.trainRows = trainRows;
  if (uniformEval !== undefined)
    report.uniform = { actions: uniformActions as number, ...uniformEval.estimates() };
  if (replay !== undefined) report.learned = { replay: replay.estimate() };
  if (learnedEval !== undefined) report.learned = learnedEval.estimates();
  return report;
};
