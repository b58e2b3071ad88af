import { createReadStream, statSync } from 'node:fs';
import { PathwiseError } from '../../errors.js';
import { LineReadError, numberedLines } from '../../util/lines.js';
import {
  badCell,
  propensityProblem,
  toReward,
  type ColumnSpec,
  type ContextValue,
  type LogPass,
  type LoggedRow,
  type LogSource,
} from './logged-row.js';

/**
 * A JSONL log: one JSON object per line, the columns being its top-level keys. Blank lines are skipped; any other
 * line that is not an object with the named keys ends the pass with an error naming the line and the key.
 * readline pauses the file while rows are consumed, so at most a chunk of lines is buffered.
 */
export const jsonlSource = (file: string, spec: ColumnSpec, withContext: boolean): LogSource => ({
  name: file,
  size: statSync(file).size,
  open: () => openJsonl(file, spec, withContext),
});

const openJsonl = (file: string, spec: ColumnSpec, withContext: boolean): LogPass => {
  const input = createReadStream(file);
  return { rows: rows(file, input, spec, withContext), position: () => input.bytesRead };
};

async function* rows(
  file: string,
  input: ReturnType<typeof createReadStream>,
  spec: ColumnSpec,
  withContext: boolean,
): AsyncGenerator<LoggedRow> {
  try {
    for await (const [text, line] of numberedLines(input)) {
      const row = parseRow(file, text, line, spec, withContext);
      if (row !== undefined) yield row;
    }
  } catch (err) {
    // A bad row is already a one-line error naming it; a failure reading the file gets the file and line here.
    if (!(err instanceof LineReadError)) throw err;
    throw new PathwiseError('PW_ERR_EVALUATE_DATA', `${file} (after line ${err.line}): ${err.message}`, {
      cause: err.cause,
    });
  }
}

const parseRow = (
  file: string,
  text: string,
  line: number,
  spec: ColumnSpec,
  withContext: boolean,
): LoggedRow | undefined => {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const where = `line ${line}`;
  let item: unknown;
  try {
    item = JSON.parse(trimmed);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new PathwiseError('PW_ERR_EVALUATE_DATA', `${file} ${where}: not valid JSON (${why})`, {
      cause: err,
    });
  }
  if (typeof item !== 'object' || item === null || Array.isArray(item))
    throw new PathwiseError('PW_ERR_EVALUATE_DATA', `${file} ${where}: not a JSON object`);
  const obj = item as Record<string, unknown>;
  const get = (key: string): unknown => (Object.hasOwn(obj, key) ? obj[key] : undefined);

  const rawAction = get(spec.action);
  if (!((typeof rawAction === 'string' && rawAction !== '') || typeof rawAction === 'number'))
    throw badCell(file, where, spec.action, `${describe(rawAction)} is not an action (a string or a number)`);
  const rawReward = get(spec.reward);
  const reward = typeof rawReward === 'string' ? undefined : toReward(rawReward);
  if (reward === undefined) throw badCell(file, where, spec.reward, `${describe(rawReward)} is not a number`);
  let propensity: number;
  if (typeof spec.propensity === 'number') propensity = spec.propensity;
  else {
    const raw = get(spec.propensity);
    const problem = propensityProblem(raw);
    if (problem !== undefined)
      throw badCell(file, where, spec.propensity, raw === undefined ? 'missing' : problem);
    propensity = raw as number;
  }
  const row: LoggedRow = { where, action: String(rawAction), reward, propensity };
  if (withContext) {
    const context: Record<string, ContextValue> = {};
    for (const key of spec.context) {
      const v = get(key);
      if (v !== undefined && v !== null) context[key] = v as ContextValue;
    }
    row.context = context;
  }
  return row;
};

const describe = (v: unknown): string => (v === undefined ? 'a missing value' : JSON.stringify(v));
