import type { SparseFeatures } from '../../domain/index.js';
import { PathwiseError } from '../../errors.js';

/** A context cell: what hashFeatures sees for one context column. */
export type ContextValue = string | number | boolean | null | object;

/** One logged decision as read from a file or the decision log, before actions become indices. */
export interface LoggedRow {
  /** Where it came from, for error messages: `line 12` (files) or `decision d_… (seq 12)` (the store). */
  where: string;
  action: string;
  reward: number;
  propensity: number;
  /** Context columns by name (files), when the evaluation needs them. */
  context?: Record<string, ContextValue>;
  /** Already hashed features (the store's decision log). */
  features?: SparseFeatures;
}

/** A pass over a log: its rows in order, and how far the reader got (for a progress bar). */
export interface LogPass {
  rows: AsyncIterable<LoggedRow>;
  /** Progress in the unit of `LogSource.size` (bytes for files, rows for the store). */
  position(): number;
}

/** A log that can be read more than once (a first pass counts rows or learns the action set). */
export interface LogSource {
  /** What the source is, for messages: the file name. */
  name: string;
  /** The total of `position()`, for a progress bar (0: unknown). */
  size: number;
  open(): LogPass;
}

/** Which columns hold what (see docs/evaluation.md). */
export interface ColumnSpec {
  action: string;
  reward: string;
  /** A column name, or one propensity for every row. */
  propensity: string | number;
  context: readonly string[];
}

/** The one-line error for a bad cell: `data.csv line 12, column "propensity_score": 1.5 is not …`. */
export const badCell = (file: string, where: string, column: string, reason: string): PathwiseError =>
  new PathwiseError('PW_ERR_EVALUATE_DATA', `${file} ${where}, column "${column}": ${reason}`, {
    field: column,
  });

/** A reward: a finite number (booleans count as 1 and 0). Returns undefined when it is not one. */
export const toReward = (value: unknown): number | undefined => {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
};

/** Checks a propensity, with the reason when it is not a probability in (0, 1]. */
export const propensityProblem = (value: unknown): string | undefined => {
  if (typeof value !== 'number' || Number.isNaN(value)) return `${JSON.stringify(value)} is not a number`;
  if (!(value > 0 && value <= 1)) return `${value} is not a probability in (0, 1]`;
  return undefined;
};

const NUMERIC = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** A CSV cell as a context value: numbers become numeric features, anything else a category. */
export const contextCell = (text: string): ContextValue => (NUMERIC.test(text) ? Number(text) : text);
