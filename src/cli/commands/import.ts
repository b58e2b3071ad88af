import { basename, extname } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { PathwiseError } from '../../errors.js';
import {
  readCsv,
  readJsonl,
  runImport,
  type ImportProgress,
  type ImportSummary,
} from '../../ingest/import/index.js';
import type { Io } from '../main.js';
import { openCommandRuntime, regularFileSize } from '../options.js';

type Format = 'jsonl' | 'csv';

interface ImportOpts {
  format?: string;
  config: string;
  db: string;
  source: string;
  batchSize: number;
  progress: boolean;
}

const EXTENSIONS: Record<string, Format> = { '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.csv': 'csv' };
/** Rejections listed under the summary; the rest are in the dead-letter table. */
const LISTED_REJECTIONS = 10;
/** Exit code of a run stopped by Ctrl-C, as shells report 128 + SIGINT. */
const EXIT_INTERRUPTED = 130;

const parseBatchSize = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100_000)
    throw new InvalidArgumentError('must be a whole number 1-100000');
  return n;
};

const parseSource = (value: string): string => {
  // Same rule as `sources[].name` in the config, so imported events can be told apart by source.
  if (!/^[A-Za-z0-9_.-]+$/.test(value)) throw new InvalidArgumentError('use letters, digits, _ . - only');
  return value;
};

export const registerImport = (program: Command, io: Io, setExit: (code: number) => void): void => {
  program
    .command('import <file>')
    .description(
      'Import events from a JSONL or CSV file through the same validation, dedup and dead-letter path as the HTTP API',
    )
    .option('--format <format>', 'jsonl or csv (default: from the extension: .jsonl, .ndjson, .csv)')
    .option('--config <file>', 'workspace config', './pathwise.yaml')
    .option('--db <file>', 'SQLite database file (created if missing)', './pathwise.db')
    .option(
      '--source <name>',
      'source name: the messageId dedup scope and dead-letter source',
      parseSource,
      'import',
    )
    .option('--batch-size <n>', 'events per ingest call and commit', parseBatchSize, 5000)
    .option('--no-progress', 'no progress bar, even on a terminal')
    .action(async (file: string, opts: ImportOpts) => {
      const size = regularFileSize(file, 'PW_ERR_IMPORT_FILE');
      const format = formatOf(file, opts.format);
      const rt = await openCommandRuntime(opts, io);
      let stop = false;
      void io.stopSignal.then(() => {
        stop = true;
      });
      const bar = opts.progress && process.stderr.isTTY === true ? progressBar(size) : undefined;
      let summary: ImportSummary;
      try {
        summary = await runImport({
          ingest: rt.ingest,
          store: rt.store,
          source: opts.source,
          reader: format === 'csv' ? readCsv(file) : readJsonl(file),
          batchSize: opts.batchSize,
          now: Date.now,
          origin: basename(file),
          keepRejections: LISTED_REJECTIONS,
          ...(bar === undefined ? {} : { onProgress: bar.update }),
          shouldStop: () => stop,
        });
      } finally {
        bar?.stop();
        await rt.close();
      }
      // A file that failed before its first row (a bad CSV header) has nothing to summarise: the error says it all.
      if (summary.error === undefined || summary.events > 0) io.stdout(formatSummary(file, summary));
      if (summary.error !== undefined) throw summary.error;
      if (summary.interrupted) setExit(EXIT_INTERRUPTED);
    });
};

const formatOf = (file: string, given: string | undefined): Format => {
  if (given !== undefined) {
    if (given === 'jsonl' || given === 'csv') return given;
    throw new PathwiseError('PW_ERR_IMPORT_FORMAT', JSON.stringify(given));
  }
  const ext = extname(file).toLowerCase();
  const format = Object.hasOwn(EXTENSIONS, ext) ? EXTENSIONS[ext] : undefined;
  if (format !== undefined) return format;
  throw new PathwiseError(
    'PW_ERR_IMPORT_FORMAT',
    `${JSON.stringify(ext)} (from the name ${basename(file)}; pass --format to say which)`,
  );
};

/** A bar over bytes read (the one total known up front), with events/s and an ETA; terminals only. */
const progressBar = (size: number): { update: (p: ImportProgress) => void; stop: () => void } => {
  const bar = new cliProgress.SingleBar(
    {
      format: 'importing {bar} {percentage}% | {events} events | {rate} events/s | ETA {eta_formatted}',
      stream: process.stderr,
      clearOnComplete: true,
      hideCursor: true,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(Math.max(size, 1), 0, { events: 0, rate: 0 });
  return {
    update: (p) =>
      bar.update(p.bytesRead, {
        events: p.events,
        rate: Math.round(p.events / Math.max(p.elapsedMs / 1000, 0.001)),
      }),
    stop: () => bar.stop(),
  };
};

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export const formatSummary = (file: string, s: ImportSummary): string => {
  const seconds = s.elapsedMs / 1000;
  const rate = Math.round(s.events / Math.max(seconds, 0.001));
  const lines = [
    `imported ${plural(s.events, 'event')} from ${file} in ${seconds.toFixed(1)} s (${rate} events/s): ` +
      `${s.accepted} accepted, ${plural(s.duplicates, 'duplicate')}, ${s.rejected} rejected` +
      // Only when it happens: events of erased customers are dropped (docs/privacy.md).
      (s.erased > 0 ? `, ${s.erased} dropped (erased customers)` : ''),
  ];
  for (const r of s.rejections)
    lines.push(`  line ${r.line}: ${r.field === '' ? '' : `${r.field}: `}${r.reason}`);
  if (s.rejected > s.rejections.length) {
    lines.push(`  … and ${s.rejected - s.rejections.length} more (see GET /v1/dead-letter)`);
  }
  if (s.interrupted) {
    lines.push(
      `interrupted after line ${s.lastLine}: run the same command again to finish (imported events are skipped as duplicates)`,
    );
  } else if (s.error !== undefined) {
    lines.push(
      `stopped after line ${s.lastLine}: the file cannot be read further; the lines up to it are imported`,
    );
  }
  return `${lines.join('\n')}\n`;
};
