import { Agent, request } from 'node:http';
import { TrackSource } from './events.js';
import { jsonHeaders } from './ingest-http.js';
import {
  latencyHistogram,
  onSchedule,
  percentilesMs,
  runLoad,
  type LoadResult,
  type Percentiles,
} from './load.js';
import { cpuMeter, type CpuUse, type Server } from './servers.js';

/**
 * Figure 3: latency of single `POST /v1/track` calls at a fixed rate.
 *
 * autocannon's `overallRate` is closed-loop and bursty: each connection sends its share of the second's
 * requests back to back as soon as the previous answer arrives, then idles until the next second. It
 * never measures queueing behind a slow answer, and its "coordinated omission correction" uses an
 * expected interval of ceil(1 / per-connection rate) = 1 ms, so an answer of L ms adds phantom samples
 * at L-1 … 1 ms. Both numbers are reported as autocannon gives them and raw; the open-loop run below sends
 * on a fixed schedule (one request every 1000/rate ms, on as many keep-alive sockets as needed) and times
 * each call from when it was due, which is what a client at a steady rate sees.
 */

export interface OpenLoopResult {
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  statusCodes: Record<string, number>;
  /** From the scheduled send time (includes any wait for a socket or the generator's own lateness). */
  fromSchedule: Percentiles;
  /** From the actual send. */
  raw: Percentiles;
}

/**
 * `rate` × `seconds` POSTs on a fixed schedule (see above), each timed from when it was due. `onAnswer`
 * sees every 2xx body (the decide figure counts the answers' modes); other bodies are discarded unread.
 */
export const runOpenLoop = (opts: {
  url: string;
  path: string;
  rate: number;
  seconds: number;
  body: () => string;
  onAnswer?: (body: Buffer) => void;
}): Promise<OpenLoopResult> => {
  const target = new URL(opts.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const fromSchedule = latencyHistogram();
  const raw = latencyHistogram();
  const total = Math.round(opts.rate * opts.seconds);
  const interval = 1000 / opts.rate;
  const statusCodes: Record<string, number> = {};
  let sent = 0;
  let finished = 0;
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(limit);
      agent.destroy();
      resolve({
        sent,
        ok,
        non2xx,
        errors,
        statusCodes,
        fromSchedule: percentilesMs(fromSchedule),
        raw: percentilesMs(raw),
      });
    };
    const limit = setTimeout(
      () => {
        errors += sent - finished;
        finish();
      },
      (opts.seconds + 30) * 1000,
    );
    const done = () => {
      if (++finished === total) finish();
    };
    const fire = (due: number) => {
      sent++;
      const body = opts.body();
      const started = performance.now();
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: opts.path,
          method: 'POST',
          headers: { ...jsonHeaders, 'content-length': Buffer.byteLength(body) },
          timeout: 10_000,
        },
        (res) => {
          const code = res.statusCode ?? 0;
          const success = code >= 200 && code < 300;
          const chunks: Buffer[] = [];
          if (success && opts.onAnswer !== undefined) res.on('data', (c: Buffer) => chunks.push(c));
          else res.resume();
          res.once('end', () => {
            const end = performance.now();
            fromSchedule.recordValue(Math.max(1, Math.round((end - due) * 1000)));
            raw.recordValue(Math.max(1, Math.round((end - started) * 1000)));
            statusCodes[code] = (statusCodes[code] ?? 0) + 1;
            if (success) {
              ok++;
              opts.onAnswer?.(Buffer.concat(chunks));
            } else non2xx++;
            done();
          });
        },
      );
      req.once('timeout', () => req.destroy(new Error('timeout')));
      req.once('error', () => {
        errors++;
        done();
      });
      req.end(body);
    };
    onSchedule(total, interval, fire);
  });
};

export interface LatencyRun {
  autocannon: LoadResult;
  openLoop: OpenLoopResult;
  /** Over both measured runs. */
  cpu: CpuUse;
}

/** Warm-up, autocannon at `rate` (`overallRate`, 10 connections), then the open-loop run at the same rate. */
export const runLatency = async (
  server: Server,
  opts: { rate: number; seconds: number; warmupSeconds: number; seed: number; runTag: string },
): Promise<LatencyRun> => {
  const source = new TrackSource(opts.seed, opts.runTag);
  const url = `${server.url}/v1/track`;
  const base = {
    url,
    headers: jsonHeaders,
    body: () => source.next(),
    connections: 10,
    overallRate: opts.rate,
  };
  await runLoad({ ...base, seconds: opts.warmupSeconds });
  const meter = cpuMeter(server.child.pid);
  const autocannon = await runLoad({ ...base, seconds: opts.seconds });
  const openLoop = await runOpenLoop({
    url: server.url,
    path: '/v1/track',
    rate: opts.rate,
    seconds: opts.seconds,
    body: () => source.next(),
  });
  return { autocannon, openLoop, cpu: meter.stop() };
};
