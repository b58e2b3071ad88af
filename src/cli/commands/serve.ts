import type { Command } from 'commander';
import { formatIssue, loadConfigFile } from '../../config/load.js';
import { openRuntime, serverFor } from '../../runtime.js';
import type { Io } from '../main.js';
import { parsePort } from '../options.js';

export const registerServe = (program: Command, io: Io): void => {
  program
    .command('serve')
    .description('Run the Pathwise server (ingest API, profiles API, /metrics) on the embedded SQLite store')
    .option('--config <file>', 'workspace config', './pathwise.yaml')
    .option('--db <file>', 'SQLite database file (created if missing)', './pathwise.db')
    .option('--port <n>', 'port to listen on', parsePort, 3000)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(async (opts: { config: string; db: string; port: number; host: string }) => {
      // SIGHUP's default action ends the process: ignore it until the reload handler is in place.
      const early = () => undefined;
      process.on('SIGHUP', early);
      try {
        const config = loadConfigFile(opts.config);
        const rt = await openRuntime({ config, db: opts.db, env: io.env, configFile: opts.config });
        if (rt.keys.writeKeys.size === 0) {
          rt.logger.warn(
            'no write keys: add `sources:` to the config or set PATHWISE_WRITE_KEYS; ingest will refuse every call',
          );
        }
        if (rt.keys.adminKey === undefined) {
          rt.logger.warn(
            'no admin key: set `admin.key` in the config or PATHWISE_ADMIN_KEY; the read APIs will refuse every call',
          );
        }
        const app = serverFor(rt);
        try {
          const address = await app.listen({ port: opts.port, host: opts.host });
          rt.logger.info(
            { address, db: opts.db, workspace: config.workspace },
            `Pathwise listening on ${address}`,
          );
          rt.startBackground();
          // SIGHUP re-reads the config file: a valid one applies its decisioning sections, an invalid one changes nothing.
          const reload = () =>
            void rt.reloadConfig().then((r) => {
              if (r.ok) {
                rt.logger.info({ restartNeeded: r.restartNeeded }, `config reloaded from ${opts.config}`);
                rt.oversight
                  .record('sighup', 'config.reload', '*', { restartNeeded: r.restartNeeded })
                  .catch((err: unknown) => rt.logger.error({ err }, 'could not audit the config reload'));
              } else
                rt.logger.error(
                  { issues: r.issues.map(formatIssue) },
                  `config reload refused: ${r.issues.length} problem(s); the running config stays`,
                );
            });
          process.on('SIGHUP', reload);
          try {
            await io.stopSignal;
          } finally {
            process.off('SIGHUP', reload);
          }
          rt.logger.info('stopping: finishing in-flight requests');
          // close() stops accepting, waits for in-flight requests (each answered only after its commit).
          await app.close();
        } finally {
          await rt.close();
        }
      } finally {
        process.off('SIGHUP', early);
      }
    });
};
