import { statSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { loadConfigFile } from '../config/load.js';
import { PathwiseError } from '../errors.js';
import { openRuntime } from '../runtime.js';
import type { Io } from './main.js';

export const parsePort = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('must be a port number 0-65535');
  return n;
};

/**
 * The size of the regular file `file`; a missing file or anything else is a one-line error with `code` (the
 * command's own input error, so the message and exit code say which input was wrong).
 */
export const regularFileSize = (
  file: string,
  code: 'PW_ERR_IMPORT_FILE' | 'PW_ERR_EVALUATE_DATA',
): number => {
  let stat;
  try {
    stat = statSync(file);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(err);
    throw new PathwiseError(code, `${file}: ${reason}`, { cause: err });
  }
  if (!stat.isFile()) throw new PathwiseError(code, `${file}: not a file`);
  return stat.size;
};

/** The runtime a one-shot command works on: no channels, and logs (warnings and errors) on stderr only. */
export const openCommandRuntime = (opts: { config: string; db: string }, io: Io) =>
  openRuntime({
    config: loadConfigFile(opts.config),
    db: opts.db,
    env: io.env,
    // stdout carries the command's output (a summary, a receipt).
    logger: pino({ level: 'warn' }, { write: (line: string) => io.stderr(line) }),
    configFile: opts.config,
    channels: false,
  });
