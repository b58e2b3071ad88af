import { createReadStream, type ReadStream } from 'node:fs';
import sjson from 'secure-json-parse';
import { PathwiseError } from '../../errors.js';
import { LineReadError, numberedLines } from '../../util/lines.js';
import { importMessageId, type ImportReader, type ImportRecord } from './run-import.js';

/**
 * Reads a JSONL (NDJSON) file one line at a time: each non-blank line is one Segment call with its own
 * `type`, as an item of a `/v1/batch` request. readline's async iterator pauses the file stream while the
 * consumer is busy, so at most a chunk of lines is buffered.
 */
export const readJsonl = (file: string): ImportReader => {
  const input = createReadStream(file);
  return {
    records: jsonlRecords(file, input),
    bytesRead: () => input.bytesRead,
  };
};

async function* jsonlRecords(file: string, input: ReadStream): AsyncGenerator<ImportRecord> {
  let line = 0;
  try {
    for await (const [text, n] of numberedLines(input)) {
      line = n;
      const record = parseLine(text, n);
      if (record !== undefined) yield record;
    }
  } catch (err) {
    const failure =
      err instanceof LineReadError ? err.cause : err instanceof Error ? err : new Error(String(err));
    throw new PathwiseError('PW_ERR_IMPORT_FILE', `${file} (after line ${line}): ${failure.message}`, {
      cause: failure,
    });
  }
}

/** One line → a call to ingest, a rejection, or nothing for a blank line. */
export const parseLine = (text: string, line: number): ImportRecord | undefined => {
  // trim() also drops a UTF-8 byte-order mark on the first line.
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  let item: unknown;
  try {
    item = sjson.parse(trimmed, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { line, invalid: { code: 'PW_ERR_INGEST_BODY', reason: `not valid JSON (${why})`, raw: trimmed } };
  }
  if (typeof item === 'object' && item !== null && !Array.isArray(item)) {
    const call = item as Record<string, unknown>;
    // The validator treats null and '' as absent too and would give those a random id: not idempotent.
    if (call.messageId === undefined || call.messageId === null || call.messageId === '') {
      call.messageId = importMessageId(trimmed);
    }
  }
  return { line, item };
};
