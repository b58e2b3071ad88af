import type { Command } from 'commander';
import { pino } from 'pino';
import { loadConfigFile } from '../../config/load.js';
import { openRuntime } from '../../runtime.js';
import type { Io } from '../main.js';

interface ForgetOpts {
  config: string;
  db: string;
}

/**
 * `pathwise forget ID`: erases a customer everywhere (as `DELETE /v1/profiles/:id` does) and prints the receipt
 * as JSON. An unknown or already erased id is an error: one line on stderr, exit 2 (see main.ts).
 */
export const registerForget = (program: Command, io: Io, _setExit: (code: number) => void): void => {
  program
    .command('forget <id>')
    .description(
      'Erase a customer everywhere (profile, identities, events, decisions, messages, timers, dead letters), keeping only a hashed tombstone; prints the receipt as JSON',
    )
    .option('--config <file>', 'workspace config', './pathwise.yaml')
    .option('--db <file>', 'SQLite database file', './pathwise.db')
    .action(async (id: string, opts: ForgetOpts) => {
      const config = loadConfigFile(opts.config);
      // The receipt goes to stdout: logs (warnings and errors only) go to stderr.
      const logger = pino({ level: 'warn' }, { write: (line: string) => io.stderr(line) });
      const rt = await openRuntime({
        config,
        db: opts.db,
        env: io.env,
        logger,
        configFile: opts.config,
        channels: false,
      });
      try {
        const receipt = await rt.privacy.forget(id, 'cli');
        io.stdout(`${JSON.stringify(receipt, null, 2)}\n`);
      } finally {
        await rt.close();
      }
    });
};
