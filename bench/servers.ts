import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

/** Child processes of the benchmark: spawned here, always killed (see killAllChildren). */

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** performance.now() just before it was spawned. */
  startedAt: number;
  /** Resolves when the process exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last few KB of its stdout and stderr, for error messages. */
  output(): string;
}

const live = new Set<ChildProcess>();

/** Runs `node <args>` from the project root with its output captured (and drained, so it never blocks). */
export const spawnNode = (name: string, args: string[], env: Record<string, string> = {}): Child => {
  const startedAt = performance.now();
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (proc.pid === undefined) throw new Error(`could not start ${name}: node ${args.join(' ')}`);
  live.add(proc);
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => {
      live.delete(proc);
      resolve({ code, signal });
    });
  });
  return { name, proc, pid: proc.pid, startedAt, exited, output: () => tail };
};

const hasExited = (c: Child): boolean => c.proc.exitCode !== null || c.proc.signalCode !== null;

/** SIGTERM, then SIGKILL after `graceMs`. Resolves once it is gone; true if it stopped on SIGTERM. */
export const stopChild = async (c: Child, graceMs = 10_000): Promise<boolean> => {
  if (hasExited(c)) return true;
  c.proc.kill('SIGTERM');
  const done = await Promise.race([c.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done) {
    c.proc.kill('SIGKILL');
    await c.exited;
  }
  return done;
};

/** Synchronous last resort for exit paths: SIGKILL everything still running. */
export const killAllChildren = (): void => {
  for (const proc of live) proc.kill('SIGKILL');
  live.clear();
};

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });

/** Polls `url` until it answers below 500; fails early with the child's output if the child died. */
export const waitForHttp = async (url: string, child: Child, timeoutMs = 30_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (hasExited(child)) throw new Error(`${child.name} exited before listening:\n${child.output()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${child.name} did not answer ${url} within ${timeoutMs} ms:\n${child.output()}`);
};

export interface Server {
  child: Child;
  url: string;
}

/** `pathwise serve` from the build in dist/, optionally under --cpu-prof (written when it exits). */
export const startPathwise = async (opts: {
  config: string;
  db: string;
  cpuProfDir?: string;
}): Promise<Server> => {
  const port = await freePort();
  const prof = opts.cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir];
  const args = [...prof, 'bin/pathwise.js', 'serve', '--config', opts.config, '--db', opts.db];
  const child = spawnNode('pathwise', [...args, '--port', String(port), '--host', '127.0.0.1'], {
    PATHWISE_LOG_LEVEL: 'warn',
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/healthz`, child);
  return { child, url };
};

/** The baseline: a bare fastify route in its own process (bench/bare-server.ts). */
export const startBare = async (): Promise<Server> => {
  const port = await freePort();
  const child = spawnNode('bare', ['--import', 'tsx', 'bench/bare-server.ts', String(port)]);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/healthz`, child);
  return { child, url };
};

/**
 * The second baseline: a durable append (bench/append-server.ts, own process), one row per event into
 * SQLite at `db` (WAL, synchronous = FULL), one transaction per request.
 */
export const startAppend = async (db: string): Promise<Server> => {
  const port = await freePort();
  const child = spawnNode('append', ['--import', 'tsx', 'bench/append-server.ts', String(port), db]);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/healthz`, child);
  return { child, url };
};

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on Linux (getconf CLK_TCK)

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; NaN once it is gone. */
export const cpuSeconds = (pid: number): number => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
};

/** Busy CPU seconds of the whole machine (all cores) so far, from /proc/stat. */
export const machineBusySeconds = (): number => {
  const [, ...ticks] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = ticks.map(Number);
  return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
};

/**
 * CPU used during an interval: by one process (`pid`), by this process (the load generator), and by
 * everything else on the machine (other processes: noise in the figures).
 */
export const cpuMeter = (pid: number): { stop(): CpuUse } => {
  const child0 = cpuSeconds(pid);
  const self0 = process.cpuUsage();
  const machine0 = machineBusySeconds();
  const t0 = performance.now();
  return {
    stop: () => {
      const wall = (performance.now() - t0) / 1000;
      const server = cpuSeconds(pid) - child0;
      const self = process.cpuUsage(self0);
      const client = (self.user + self.system) / 1e6;
      const machine = machineBusySeconds() - machine0;
      return { wall, server, client, other: Math.max(0, machine - server - client) };
    },
  };
};

export interface CpuUse {
  wall: number;
  /** CPU seconds of the measured process. */
  server: number;
  /** CPU seconds of this process (autocannon and the body generator). */
  client: number;
  /** CPU seconds used by anything else on the machine meanwhile. */
  other: number;
}

/**
 * Samples the peak resident set (VmHWM, kB) of a process every `everyMs` until stopped. VmHWM only grows,
 * so the last sample read before the process exits is its peak (to within one interval).
 */
export const samplePeakRss = (pid: number, everyMs = 100): { stop(): number; cpu(): number } => {
  let peakKb = 0;
  let cpu = 0;
  const read = () => {
    const c = cpuSeconds(pid);
    if (!Number.isNaN(c)) cpu = c;
    try {
      const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    } catch {
      // the process is gone: keep the last sample
    }
  };
  read();
  const timer = setInterval(read, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return peakKb / 1024;
    },
    /** CPU seconds at the last sample (its total, to within one interval, once it has exited). */
    cpu: () => cpu,
  };
};

/** Runs a child to completion with a time limit; resolves with its exit code, wall time and peak RSS (MB). */
export const runToExit = async (
  child: Child,
  timeoutMs: number,
): Promise<{ code: number | null; seconds: number; peakRssMb: number; cpuSeconds: number }> => {
  const rss = samplePeakRss(child.pid);
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), timeoutMs);
  try {
    const { code, signal } = await child.exited;
    const seconds = (performance.now() - child.startedAt) / 1000;
    if (signal !== null)
      throw new Error(`${child.name} killed by ${signal} (time limit ${timeoutMs / 1000} s?)`);
    return { code, seconds, peakRssMb: rss.stop(), cpuSeconds: rss.cpu() };
  } finally {
    clearTimeout(timer);
    rss.stop();
  }
};
