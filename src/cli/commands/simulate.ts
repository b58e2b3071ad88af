import { InvalidArgumentError, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { formatReport, simulate, SimulationInterrupted, writeReport } from '../../sim-run/index.js';
import type { Io } from '../main.js';

interface SimulateOpts {
  customers?: number;
  seed?: number;
  report?: string;
  http?: string;
  progress: boolean;
}

const positiveInt = (max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new InvalidArgumentError(`must be a whole number 1-${max}`);
  return n;
};

const seedOption = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 2 ** 31)
    throw new InvalidArgumentError('must be a whole number 0-2147483648');
  return n;
};

const httpUrl = (value: string) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('must be a URL such as http://127.0.0.1:0 (0: any free port)');
  }
  if (url.protocol !== 'http:' || (url.pathname !== '/' && url.pathname !== ''))
    throw new InvalidArgumentError('must be an http:// URL with no path, such as http://127.0.0.1:0');
  return value;
};

/** Exit code of a run stopped by Ctrl-C, as shells report 128 + SIGINT (as import). */
const EXIT_INTERRUPTED = 130;

export const registerSimulate = (program: Command, io: Io, setExit: (code: number) => void): void => {
  program
    .command('simulate <scenario>')
    .description(
      'Run a simulated population through the product (the autonomous policy) and the baselines (static journey, uniform random, no action, oracle); print the figures and write a report',
    )
    .option('--customers <n>', "customers to simulate (default: the scenario's)", positiveInt(1_000_000))
    .option(
      '--seed <n>',
      "seed of the population, their responses and the engine (default: the scenario's)",
      seedOption,
    )
    .option('--report <dir>', 'write report.html and report.json into this folder')
    .option(
      '--http <url>',
      'serve the product at this URL (port 0: any free port) and send every customer event over HTTP instead of in-process',
      httpUrl,
    )
    .option('--no-progress', 'no progress bar')
    .action(async (scenarioFile: string, opts: SimulateOpts) => {
      // Like import: a bar only on a terminal, on stderr, so stdout stays the figures.
      const bar =
        opts.progress && process.stderr.isTTY === true
          ? new cliProgress.SingleBar(
              {
                stream: process.stderr,
                format: '{phase} [{bar}] {value}/{total} customers | {duration_formatted}',
                hideCursor: true,
              },
              cliProgress.Presets.shades_classic,
            )
          : undefined;
      let phase = '';
      let stop = false;
      void io.stopSignal.then(() => {
        stop = true;
      });
      try {
        const report = await simulate({
          scenarioFile,
          shouldStop: () => stop,
          ...(opts.customers === undefined ? {} : { customers: opts.customers }),
          ...(opts.seed === undefined ? {} : { seed: opts.seed }),
          ...(opts.http === undefined ? {} : { http: opts.http }),
          onProgress: (p, done, total) => {
            if (bar === undefined) return;
            const label = p === 'product' ? 'autonomous (product)' : 'baselines (pure)   ';
            if (p !== phase) {
              if (phase !== '') bar.stop();
              phase = p;
              bar.start(total, done, { phase: label });
            } else bar.update(done, { phase: label });
          },
        });
        bar?.stop();
        io.stdout(formatReport(report));
        if (opts.report !== undefined) {
          const files = writeReport(opts.report, report);
          io.stdout(`report: ${files.html} and ${files.json}\n`);
        }
      } catch (err) {
        if (!(err instanceof SimulationInterrupted)) throw err;
        io.stderr('pathwise: simulation interrupted; no figures\n');
        setExit(EXIT_INTERRUPTED);
      } finally {
        bar?.stop();
      }
    });
};
