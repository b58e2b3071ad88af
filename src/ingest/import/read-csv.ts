import { createReadStream, type ReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';
import { PathwiseError } from '../../errors.js';
import { planColumns, rowToCall, type CsvPlan } from './csv-row.js';
import { importMessageId, type ImportReader, type ImportRecord } from './run-import.js';

/** Far above any event the ingest limits accept, yet a bound on one row's memory. */
const MAX_ROW_CHARS = 8 * 1024 * 1024;

/** What csv-parse hands to `on_record` with `raw` and `info` on. */
interface ParsedRow {
  record: Record<string, string | undefined>;
  raw: string;
  info: { lines: number };
}

/** A row as this reader consumes it: cells by column name and the line the row starts on. */
interface Row {
  line: number;
  cells: Record<string, string | undefined>;
}

/** A row csv-parse skipped (ragged, bad quoting), waiting for its turn in file order. */
interface Skipped {
  line: number;
  reason: string;
  raw: string;
}

/**
 * Reads a CSV file with a header row, streaming: csv-parse is a Transform in object mode, so iterating it
 * pulls from the file only as fast as rows are consumed. Each row becomes a Segment call (see csv-row.ts).
 * Rows csv-parse cannot read (a ragged row, a stray quote) are skipped by it and come out here as rejections
 * with their line number, so one bad row does not end the import.
 */
export const readCsv = (file: string): ImportReader => {
  const input = createReadStream(file);
  return {
    records: csvRecords(file, input),
    bytesRead: () => input.bytesRead,
  };
};

async function* csvRecords(file: string, input: ReadStream): AsyncGenerator<ImportRecord> {
  let plan: CsvPlan | undefined;
  let headerJson = '';
  const skipped: Skipped[] = [];
  const lines = new LineCounter();
  const parser = parse({
    bom: true,
    // Whitespace around delimiters is padding from hand-edited files, not data (quoted cells keep theirs).
    trim: true,
    skip_empty_lines: true,
    skip_records_with_empty_values: true,
    relax_column_count: false,
    skip_records_with_error: true,
    raw: true,
    info: true,
    // Bounds memory when a stray quote swallows the rest of the file into one cell.
    max_record_size: MAX_ROW_CHARS,
    columns: (header: string[]) => {
      try {
        plan = planColumns(header);
      } catch (err) {
        throw new Error(`header (line 1): ${err instanceof Error ? err.message : String(err)}`);
      }
      headerJson = JSON.stringify(plan.names);
      return plan.names;
    },
    on_skip: (err: CsvError | undefined, raw: string | undefined) => {
      if (err === undefined) return undefined;
      // csv-parse cannot resume cleanly after this one (it drops the rest of its buffer): end the import.
      if (err.code === 'CSV_MAX_RECORD_SIZE') {
        throw new Error(
          `the row at line ${String(err.lines)} is over ${MAX_ROW_CHARS} characters; is a quote left open?`,
        );
      }
      const text = trimDelimiters(raw ?? '');
      const line = lines.startOf(typeof err.lines === 'number' ? err.lines : 0, text);
      skipped.push({ line, reason: skipReason(err, plan), raw: text });
      return undefined;
    },
    // Runs in parse order, interleaved with on_skip, which the line correction depends on.
    on_record: (row: ParsedRow): Row => ({
      line: lines.startOf(row.info.lines, trimDelimiters(row.raw)),
      cells: row.record,
    }),
  });
  // pipeline, not pipe: a read error on the file must reach the parser (and so this loop) too.
  pipeline(input, parser, () => {});

  // A skip is reported while the parser works ahead of this loop: hold it back until the rows before it are out.
  function* skippedBefore(line: number): Generator<ImportRecord> {
    if (skipped.length === 0 || (skipped[0] as Skipped).line >= line) return;
    skipped.sort((a, b) => a.line - b.line);
    while (skipped.length > 0 && (skipped[0] as Skipped).line < line) {
      const s = skipped.shift() as Skipped;
      yield { line: s.line, invalid: { code: 'PW_ERR_INGEST_INVALID', reason: s.reason, raw: s.raw } };
    }
  }

  try {
    for await (const row of parser as AsyncIterable<Row>) {
      yield* skippedBefore(row.line);
      const call = rowToCall(plan as CsvPlan, row.cells);
      if (call.messageId === undefined) {
        // From the parsed cells with the header, so re-exports that only quote or end lines differently
        // keep their ids, and the same values under different columns do not collide.
        call.messageId = importMessageId(`${headerJson}\n${JSON.stringify(Object.values(row.cells))}`);
      }
      yield { line: row.line, item: call };
    }
    yield* skippedBefore(Infinity);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new PathwiseError('PW_ERR_IMPORT_FILE', `${file}: ${why}`, { cause: err });
  } finally {
    parser.destroy();
    input.destroy();
  }
}

const skipReason = (err: CsvError, plan: CsvPlan | undefined): string => {
  const record = err.record;
  if (
    (err.code === 'CSV_RECORD_INCONSISTENT_COLUMNS' ||
      err.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH') &&
    Array.isArray(record) &&
    plan !== undefined
  ) {
    return `row has ${record.length} cells but the header has ${plan.names.length} columns`;
  }
  // csv-parse ends its messages with "at line N"; the line is reported separately.
  return err.message.replace(/ (?:at|on) line \d+/, '');
};

const trimDelimiters = (raw: string): string => raw.replace(/^[\r\n]+|[\r\n]+$/g, '');

/**
 * The line a row starts on. csv-parse's `lines` is where the row ends, and it counts a \r\n inside a quoted
 * cell as two line breaks (a record-ending \r\n as one), so every such cell shifts the rest of the file by
 * one; Excel exports with multi-line notes have many. Rows must be fed in parse order.
 */
class LineCounter {
  private overcount = 0;

  startOf(csvParseLines: number, raw: string): number {
    let breaks = 0;
    let crlf = 0;
    for (let i = 0; i < raw.length; i++) {
      const c = raw.charCodeAt(i);
      if (c === 10) {
        breaks++;
        if (raw.charCodeAt(i - 1) === 13) crlf++;
      } else if (c === 13) {
        breaks++;
      }
    }
    // csv-parse counted every \r and \n in the row: the row started that many of its lines earlier.
    const start = csvParseLines - this.overcount - breaks;
    this.overcount += crlf;
    return start;
  }
}
