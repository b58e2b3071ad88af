import { createHash } from 'node:crypto';
import type { DeadLetterInput, Store } from '../../store/store.js';
import type { IngestService } from '../service.js';

/**
 * One non-blank line (JSONL) or row (CSV) of an import file, read but not yet validated: either a Segment
 * call for the ingest service, or text that could not even be turned into one (kept for the dead letters).
 */
export type ImportRecord =
  | { line: number; item: unknown }
  | {
      line: number;
      invalid: { code: 'PW_ERR_INGEST_BODY' | 'PW_ERR_INGEST_INVALID'; reason: string; raw: string };
    };

/** A streaming reader over one file: records in file order, and how far into the file it has read. */
export interface ImportReader {
  records: AsyncIterable<ImportRecord>;
  bytesRead(): number;
}

/**
 * The messageId given to a line or row that has none: derived from its content, so importing the same file
 * twice (or a file that repeats rows of an earlier one) stores each call once.
 */
export const importMessageId = (content: string): string =>
  `imp-${createHash('sha1').update(content).digest('hex').slice(0, 32)}`;

export interface ImportRejection {
  line: number;
  /** The offending field (`userId`, `properties`), or '' for the line as a whole. */
  field: string;
  reason: string;
}

export interface ImportSummary {
  /** Non-blank lines or rows seen: accepted + duplicates + erased + rejected. */
  events: number;
  accepted: number;
  duplicates: number;
  /** Events naming an erased person: dropped, not stored (docs/privacy.md). */
  erased: number;
  rejected: number;
  /** The first rejections in file order (at most `keepRejections`); the rest are only counted. */
  rejections: ImportRejection[];
  elapsedMs: number;
  /** The last line read, to say where an interrupted or failed import stopped. */
  lastLine: number;
  /** True when `shouldStop` ended the import early. */
  interrupted: boolean;
  /** A read error (I/O, a malformed file) that ended the import; what was read before it is imported. */
  error?: unknown;
}

export interface ImportProgress {
  bytesRead: number;
  events: number;
  elapsedMs: number;
}

export interface ImportOptions {
  ingest: Pick<IngestService, 'ingestItems'>;
  /** Only for dead-lettering lines that never became a Segment call (the service's path needs a call). */
  store: Pick<Store, 'write'>;
  /** Source name: the dedup namespace for messageIds and the dead-letter source. */
  source: string;
  reader: ImportReader;
  /** Records per ingest call: each is one group commit, awaited before reading on. */
  batchSize: number;
  /** Server time for `receivedAt`, epoch ms. */
  now: () => number;
  /** Names the file in dead-letter reasons (`orders.csv:17: …`). */
  origin?: string;
  /** How many rejections to keep for the report. */
  keepRejections?: number;
  onProgress?: (p: ImportProgress) => void;
  /** Checked after each chunk; true ends the import there (everything read so far is committed). */
  shouldStop?: () => boolean;
}

/** Same cap as the ingest service's dead letters, so one huge garbage line cannot bloat the store. */
const MAX_DEAD_PAYLOAD = 64 * 1024;

type Invalid = Extract<ImportRecord, { invalid: unknown }>;

/**
 * Streams a file through the ingest service in chunks. Each chunk is awaited before the next is read, so
 * the reader's stream stays paused while SQLite commits and memory stays flat whatever the file size.
 */
export const runImport = async (opts: ImportOptions): Promise<ImportSummary> => {
  const started = performance.now();
  const keep = opts.keepRejections ?? 10;
  const summary: ImportSummary = {
    events: 0,
    accepted: 0,
    duplicates: 0,
    erased: 0,
    rejected: 0,
    rejections: [],
    elapsedMs: 0,
    lastLine: 0,
    interrupted: false,
  };
  let items: { line: number; item: unknown }[] = [];
  let invalid: Invalid[] = [];

  const flush = async (): Promise<void> => {
    if (items.length === 0 && invalid.length === 0) return;
    const batch = items;
    const bad = invalid;
    items = [];
    invalid = [];
    const receivedAt = opts.now();
    const outcomes =
      batch.length === 0
        ? []
        : await opts.ingest.ingestItems(
            opts.source,
            batch.map((r) => r.item),
            // Exports carry the original sentAt: correcting skew against today would move history to now.
            { receivedAt, correctSkew: false },
          );
    const rejected: ImportRejection[] = [];
    outcomes.forEach((o, i) => {
      if (o.status === 'accepted') summary.accepted++;
      else if (o.status === 'duplicate') summary.duplicates++;
      else if (o.status === 'erased') summary.erased++;
      else rejected.push({ line: batch[i]?.line ?? 0, field: o.field, reason: o.reason });
    });
    if (bad.length > 0) {
      await opts.store.write(async (w) => {
        for (const r of bad) await w.addDeadLetter(deadLetter(opts, r, receivedAt));
      });
      for (const r of bad) rejected.push({ line: r.line, field: '', reason: r.invalid.reason });
    }
    summary.rejected += rejected.length;
    summary.events += batch.length + bad.length;
    if (summary.rejections.length < keep) {
      rejected.sort((a, b) => a.line - b.line);
      summary.rejections.push(...rejected.slice(0, keep - summary.rejections.length));
    }
    opts.onProgress?.({
      bytesRead: opts.reader.bytesRead(),
      events: summary.events,
      elapsedMs: performance.now() - started,
    });
  };

  const it = opts.reader.records[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<ImportRecord>;
      try {
        next = await it.next();
      } catch (err) {
        summary.error = err;
        break;
      }
      if (next.done) break;
      const rec = next.value;
      summary.lastLine = rec.line;
      if ('item' in rec) items.push(rec);
      else invalid.push(rec);
      if (items.length + invalid.length >= opts.batchSize) {
        await flush();
        if (opts.shouldStop?.()) {
          summary.interrupted = true;
          break;
        }
      }
    }
    // Also after a read error: the records read before it are good and belong in the store.
    await flush();
  } finally {
    // Closes the file when the loop ended early (interrupted, failed); a no-op after the last record.
    await it.return?.();
  }
  summary.elapsedMs = performance.now() - started;
  return summary;
};

const deadLetter = (opts: ImportOptions, r: Invalid, receivedAt: number): DeadLetterInput => {
  const raw = r.invalid.raw;
  return {
    source: opts.source,
    receivedAt,
    code: r.invalid.code,
    field: '',
    reason: `${opts.origin === undefined ? 'line ' : `${opts.origin}:`}${r.line}: ${r.invalid.reason}`,
    payload: raw.length > MAX_DEAD_PAYLOAD ? `${raw.slice(0, MAX_DEAD_PAYLOAD)}…[truncated]` : raw,
  };
};
