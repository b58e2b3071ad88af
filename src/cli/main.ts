import { Command, CommanderError } from 'commander';
import { isPathwiseError } from '../errors.js';
import { registerServe } from './commands/serve.js';
import { registerConfig } from './commands/config.js';
import { registerImport } from './commands/import.js';
import { registerEvaluate } from './commands/evaluate.js';
import { registerSimulate } from './commands/simulate.js';
import { registerForget } from './commands/forget.js';

/** What a command needs from the process, passed in so tests can run commands in-process. */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
  stopSignal: Promise<void>;
}

const processIo = (): Io => ({
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  stopSignal: new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  }),
});

export const buildProgram = (io: Io, setExit: (code: number) => void): Command => {
  const program = new Command('pathwise')
    .description('Autonomous customer journeys: ingest, profiles, next best actions')
    .version('0.1.0')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  registerServe(program, io);
  registerImport(program, io, setExit);
  registerConfig(program, io, setExit);
  registerEvaluate(program, io, setExit);
  registerSimulate(program, io, setExit);
  registerForget(program, io, setExit);
  return program;
};

/** Runs the CLI; resolves with the exit code. Errors become one line on stderr and a non-zero code. */
export const main = async (argv: string[], io: Io = processIo()): Promise<number> => {
  let code = 0;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander.
      return err.exitCode;
    }
    const message = err instanceof Error ? err.message : String(err);
    io.stderr(`pathwise: ${isPathwiseError(err) ? `${message} [${err.code}]` : message}\n`);
    return isPathwiseError(err) && err.status < 500 ? 2 : 1;
  }
};
