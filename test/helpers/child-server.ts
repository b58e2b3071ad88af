import { spawn, type ChildProcess } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { freePort } from './net.js';

/**
 * `pathwise serve` as a real child process, for tests that kill it (SIGKILL) and start it again.
 *
 * Starting the CLI under tsx costs a few seconds per start on a small machine (the loader transforms and
 * resolves every module); a test that restarts the server dozens of times bundles the current sources once
 * instead (`bundleCli`) and starts plain node on the bundle: the same code, started in about a second.
 */
export const ROOT = resolve(import.meta.dirname, '../..');

/** The node arguments that run the CLI from source through tsx (as bin/pathwise-dev.js documents). */
export const TSX_CLI = ['--import', 'tsx', join(ROOT, 'bin/pathwise-dev.js')];

/**
 * Bundles bin/pathwise-dev.js and the sources it imports into `dir/pathwise.mjs` (dependencies stay imports)
 * and links `dir/node_modules` to the project's, so those imports resolve as they do from the checkout.
 * Returns the node arguments that run it.
 */
export const bundleCli = async (dir: string): Promise<string[]> => {
  const outfile = join(dir, 'pathwise.mjs');
  await build({
    entryPoints: [join(ROOT, 'bin/pathwise-dev.js')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile,
    logLevel: 'error',
  });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return [outfile];
};

export interface ChildServer {
  child: ChildProcess;
  base: string;
  /** Resolves with the exit code or signal once the process is gone. */
  exited: Promise<number | string | null>;
  /** What the process wrote to stderr so far (warnings and errors: it runs with PATHWISE_LOG_LEVEL=warn). */
  stderr(): string;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts `serve` on a fresh port and waits (up to `startTimeoutMs`) until /healthz answers. */
export const startChildServer = async (opts: {
  node: readonly string[];
  config: string;
  db: string;
  env?: Record<string, string>;
  startTimeoutMs?: number;
}): Promise<ChildServer> => {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [...opts.node, 'serve', '--config', opts.config, '--db', opts.db, '--port', String(port)],
    {
      cwd: ROOT,
      env: { ...process.env, PATHWISE_LOG_LEVEL: 'warn', ...opts.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  // Always drained: a full pipe would block the child on its next log line.
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    if (err.length < 1_000_000) err += c;
  });
  let gone = false;
  const exited = new Promise<number | string | null>((done) =>
    child.once('exit', (code, signal) => {
      gone = true;
      done(signal ?? code);
    }),
  );
  const kill = async () => {
    if (!gone) child.kill('SIGKILL');
    await exited;
  };
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  while (Date.now() < deadline && !gone) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return { child, base, exited, stderr: () => err, kill };
    } catch {
      // not listening yet
    }
    await sleep(25);
  }
  await kill();
  throw new Error(`pathwise serve did not start (exit: ${String(await exited)}):\n${err.slice(-4000)}`);
};
