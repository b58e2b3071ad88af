import { createReadStream, statSync } from 'node:fs';
import { pipeline } from 'node:stream';
import { parse, CsvError } from 'csv-parse';
import { PathwiseError } from '../../errors.js';
import {
  badCell,
  contextCell,
  propensityProblem,
  toReward,
  type ColumnSpec,
  type ContextValue,
  type LogPass,
  type LoggedRow,
  type LogSource,
} from './logged-row.js';

/** Bounds one row's memory when a stray quote swallows the rest of the file. */
const MAX_ROW_CHARS = 1024 * 1024;

/**
 * A CSV log with a header row, streamed through csv-parse (object mode, so the file is read only as fast as rows
 * are consumed). Cells are trimmed; the header names the columns (case-sensitive). Any error names the line and
 * the column and ends the pass: an estimate over a silently shortened log would be wrong without saying so.
 */
export const csvSource = (file: string, spec: ColumnSpec, withContext: boolean): LogSource => ({
  name: file,
  size: statSync(file).size,
  open: () => openCsv(file, spec, withContext),
});

const openCsv = (file: string, spec: ColumnSpec, withContext: boolean): LogPass => {
  const input = createReadStream(file);
  // No `info` and no skipping of empty lines: csv-parse's per-record info object costs ~15% of a run, and line
  // numbers are counted here instead (an empty line is a record of one empty cell; see rows()).
  const parser = parse({
    bom: true,
    trim: true,
    relax_column_count: true,
    max_record_size: MAX_ROW_CHARS,
  });
  pipeline(input, parser, () => {});
  return {
    rows: rows(file, parser as AsyncIterable<string[]>, spec, withContext),
    position: () => input.bytesRead,
  };
};

/** Column positions, checked against the header once. */
const locate = (file: string, line: number, header: readonly string[], spec: ColumnSpec) => {
  const at = (column: string, option: string): number => {
    const i = header.indexOf(column);
    if (i < 0) {
      const names = header.map((h) => JSON.stringify(h)).join(', ');
      throw new PathwiseError(
        'PW_ERR_EVALUATE_DATA',
        `${file} line ${line} (header): no column "${column}" for ${option} (the columns are ${names})`,
        { field: column },
      );
    }
    return i;
  };
  return {
    action: at(spec.action, '--action'),
    reward: at(spec.reward, '--reward'),
    propensity: typeof spec.propensity === 'number' ? -1 : at(spec.propensity, '--propensity'),
    context: spec.context.map((c) => at(c, '--context')),
  };
};

async function* rows(
  file: string,
  parser: AsyncIterable<string[]> & { destroy?: () => void },
  spec: ColumnSpec,
  withContext: boolean,
): AsyncGenerator<LoggedRow> {
  let cols: ReturnType<typeof locate> | undefined;
  let line = 0;
  let width = 0;
  try {
    for await (const record of parser) {
      // The line a row starts on: one past where the last one ended, plus the line breaks inside its cells.
      const start = ++line;
      for (const c of record) if (c.length > 0 && c.includes('\n')) line += newlines(c);
      if (record.length === 1 && record[0] === '') continue; // an empty line
      if (cols === undefined) {
        cols = locate(file, start, record, spec);
        width = record.length;
        continue;
      }
      const where = `line ${start}`;
      if (record.length !== width)
        throw new PathwiseError(
          'PW_ERR_EVALUATE_DATA',
          `${file} ${where}: the row has ${record.length} cells, the header ${width} columns`,
        );
      const action = record[cols.action] ?? '';
      if (action === '') throw badCell(file, where, spec.action, 'the action is empty');
      const rewardText = record[cols.reward] ?? '';
      const reward = toReward(rewardText);
      if (reward === undefined)
        throw badCell(file, where, spec.reward, `${JSON.stringify(rewardText)} is not a number`);
      let propensity: number;
      if (typeof spec.propensity === 'number') propensity = spec.propensity;
      else {
        const text = record[cols.propensity] ?? '';
        propensity = text === '' ? NaN : Number(text);
        const problem = propensityProblem(propensity);
        if (problem !== undefined)
          throw badCell(
            file,
            where,
            spec.propensity,
            Number.isNaN(propensity) ? `${JSON.stringify(text)} is not a number` : problem,
          );
      }
      const row: LoggedRow = { where, action, reward, propensity };
      if (withContext) {
        const context: Record<string, ContextValue> = {};
        for (let k = 0; k < cols.context.length; k++) {
          const text = record[cols.context[k] as number] ?? '';
          if (text !== '') context[spec.context[k] as string] = contextCell(text);
        }
        row.context = context;
      }
      yield row;
    }
  } catch (err) {
    if (err instanceof PathwiseError) throw err;
    if (err instanceof CsvError) {
      const at = typeof err.lines === 'number' ? `line ${err.lines}` : `after line ${line}`;
      const why = err.message.replace(/ (?:at|on) line \d+/, '');
      throw new PathwiseError('PW_ERR_EVALUATE_DATA', `${file} ${at}: ${why}`, { cause: err });
    }
    const why = err instanceof Error ? err.message : String(err);
    throw new PathwiseError('PW_ERR_EVALUATE_DATA', `${file} (after line ${line}): ${why}`, { cause: err });
  } finally {
    parser.destroy?.();
  }
  if (cols === undefined)
    throw new PathwiseError('PW_ERR_EVALUATE_DATA', `${file}: no header row (the file is empty)`);
}

const newlines = (s: string): number => {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
};
