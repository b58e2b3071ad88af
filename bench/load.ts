import autocannon from 'autocannon';
import { build, type Histogram } from 'hdr-histogram-js';

/** One autocannon run, summarised; latencies in ms. */
export interface LoadResult {
  seconds: number;
  /** Requests answered 2xx. */
  ok: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  /** Connection errors, timeouts included. */
  errors: number;
  timeouts: number;
  /** Bodies built (requests issued, some possibly cut off when the run stopped). */
  issued: number;
  reqPerSec: number;
  /** p50/p99 as autocannon reports them (1 ms resolution; with a rate set, its coordinated-omission correction applied). */
  autocannon: { p50: number; p99: number };
  /** p50/p99/max of the raw response times of every response (µs resolution, no correction). */
  raw: Percentiles;
}

export const latencyHistogram = (): Histogram =>
  build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });

/** Latency percentiles, ms. */
export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Percentiles of a µs histogram, in ms. */
export const percentilesMs = (h: Histogram): Percentiles => ({
  p50: h.getValueAtPercentile(50) / 1000,
  p90: h.getValueAtPercentile(90) / 1000,
  p99: h.getValueAtPercentile(99) / 1000,
  max: h.maxValue / 1000,
});

export interface LoadOptions {
  url: string;
  headers: Record<string, string>;
  /** Builds the next request body (called once per request). */
  body: () => Buffer | string;
  connections: number;
  seconds: number;
  /** Requests per second over all connections (autocannon `overallRate`); unlimited if absent. */
  overallRate?: number;
}

/** Runs autocannon (POST, keep-alive) from this process and collects its figures and raw latencies. */
export const runLoad = (opts: LoadOptions): Promise<LoadResult> => {
  let issued = 0;
  const raw = latencyHistogram();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: opts.url,
        method: 'POST',
        headers: opts.headers,
        connections: opts.connections,
        duration: opts.seconds,
        timeout: 30,
        ...(opts.overallRate === undefined ? {} : { overallRate: opts.overallRate }),
        requests: [
          {
            setupRequest: (req) => {
              issued++;
              req.body = opts.body();
              return req;
            },
          },
        ],
      },
      (err, result) => {
        if (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        const statusCodes: Record<string, number> = {};
        for (const [code, stat] of Object.entries(result.statusCodeStats ?? {}))
          statusCodes[code] = stat.count ?? 0;
        resolve({
          seconds: result.duration,
          ok: result['2xx'],
          non2xx: result.non2xx,
          statusCodes,
          errors: result.errors,
          timeouts: result.timeouts,
          issued,
          reqPerSec: result['2xx'] / result.duration,
          autocannon: { p50: result.latency.p50, p99: result.latency.p99 },
          raw: percentilesMs(raw),
        });
      },
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      raw.recordValue(Math.max(1, Math.round(responseTime * 1000)));
    });
  });
};

/**
 * Calls `fire(due)` `total` times on a fixed schedule, one every `interval` ms from now (open loop: a slow
 * answer never delays the next request, and each is timed from when it was due).
 */
export const onSchedule = (total: number, interval: number, fire: (due: number) => void): void => {
  const start = performance.now();
  let sent = 0;
  const tick = () => {
    const now = performance.now();
    while (sent < total && start + sent * interval <= now) fire(start + sent++ * interval);
    if (sent < total) setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
  };
  tick();
};
