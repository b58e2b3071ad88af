import type { Command } from 'commander';
import type { Io } from '../main.js';
import { openCommandRuntime } from '../options.js';

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
      const rt = await openCommandRuntime(opts, io);
      try {
        const receipt = await rt.privacy.forget(id, 'cli');
        io.stdout(`${JSON.stringify(receipt, null, 2)}\n`);
      } finally {
        await rt.close();
      }
    });
};
