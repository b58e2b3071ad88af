import type { Outcome } from './episode.js';

/** A figure with its 95% confidence interval over n customers. */
export interface Estimate {
  value: number;
  ciLow: number;
  ciHigh: number;
  n: number;
}

const Z95 = 1.959964;

/** Mean and 95% normal-approximation interval of per-customer values (Central Limit Theorem; n in the thousands). */
export const meanEstimate = (values: readonly number[]): Estimate => {
  const n = values.length;
  if (n === 0) return { value: 0, ciLow: 0, ciHigh: 0, n: 0 };
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / n;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  const half = n > 1 ? Z95 * Math.sqrt(ss / (n - 1) / n) : 0;
  return { value: mean, ciLow: mean - half, ciHigh: mean + half, n };
};

/** A rate's Wilson score interval (Wilson 1927): well behaved near 0 and 1, where the normal one is not. */
export const rateEstimate = (successes: number, n: number): Estimate => {
  if (n === 0) return { value: 0, ciLow: 0, ciHigh: 0, n: 0 };
  const p = successes / n;
  const z2 = Z95 * Z95;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Z95 * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return { value: p, ciLow: Math.max(0, centre - half), ciHigh: Math.min(1, centre + half), n };
};

/**
 * The difference of two means from independent samples, a − b, with a 95% interval (Welch's standard error).
 * Conservative for our runs: the policies share each customer's luck, which makes the true interval narrower.
 */
export const differenceEstimate = (a: readonly number[], b: readonly number[]): Estimate => {
  const ma = meanEstimate(a);
  const mb = meanEstimate(b);
  const se = (e: Estimate) => (e.ciHigh - e.ciLow) / (2 * Z95);
  const half = Z95 * Math.sqrt(se(ma) ** 2 + se(mb) ** 2);
  const value = ma.value - mb.value;
  return { value, ciLow: value - half, ciHigh: value + half, n: Math.min(ma.n, mb.n) };
};

/** What a report shows for one policy. */
export interface PolicySummary {
  conversion: Estimate;
  revenue: Estimate;
  /** Conversions per customer above the no-action baseline. */
  incremental?: Estimate;
  cost: number;
  /** Conversion rate and revenue per customer over successive windows of arrivals. */
  curve: Array<{ from: number; to: number; conversion: Estimate; revenue: number }>;
  byPersona: Record<string, { n: number; conversion: number; revenue: number }>;
  /** The most frequent paths (actions received, `(nothing)` for none), with how often each converted. */
  paths: Array<{ persona: string; path: string; n: number; conversion: number }>;
}

const conversions = (o: readonly Outcome[]): number[] => o.map((x) => (x.converted ? 1 : 0));

/** Summarises a policy's outcomes (in arrival order); `none` adds the uplift over doing nothing. */
export const summarize = (
  outcomes: readonly Outcome[],
  opts: { windows: number; none?: readonly Outcome[] },
): PolicySummary => {
  const n = outcomes.length;
  const conv = conversions(outcomes);
  const size = Math.max(1, Math.ceil(n / opts.windows));
  const curve: PolicySummary['curve'] = [];
  for (let from = 0; from < n; from += size) {
    const part = outcomes.slice(from, from + size);
    curve.push({
      from,
      to: from + part.length,
      conversion: rateEstimate(part.filter((o) => o.converted).length, part.length),
      revenue: part.reduce((s, o) => s + o.value, 0) / part.length,
    });
  }
  const byPersona: PolicySummary['byPersona'] = {};
  const paths = new Map<string, { persona: string; path: string; n: number; won: number }>();
  for (const o of outcomes) {
    const p = (byPersona[o.persona] ??= { n: 0, conversion: 0, revenue: 0 });
    p.n++;
    p.conversion += o.converted ? 1 : 0;
    p.revenue += o.value;
    const path = o.path.length === 0 ? '(nothing)' : o.path.join(' → ');
    const key = `${o.persona}\u0000${path}`;
    const e = paths.get(key) ?? { persona: o.persona, path, n: 0, won: 0 };
    e.n++;
    e.won += o.converted ? 1 : 0;
    paths.set(key, e);
  }
  for (const p of Object.values(byPersona)) {
    p.conversion /= p.n;
    p.revenue /= p.n;
  }
  return {
    conversion: rateEstimate(
      conv.reduce((s, x) => s + x, 0),
      n,
    ),
    revenue: meanEstimate(outcomes.map((o) => o.value)),
    ...(opts.none === undefined ? {} : { incremental: differenceEstimate(conv, conversions(opts.none)) }),
    cost: outcomes.reduce((s, o) => s + o.cost, 0) / Math.max(1, n),
    curve,
    byPersona,
    paths: [...paths.values()]
      .sort((a, b) => b.n - a.n)
      .slice(0, 40)
      .map((e) => ({ persona: e.persona, path: e.path, n: e.n, conversion: e.won / e.n })),
  };
};

/** a's incremental conversions as a share of b's (both over no action). */
export const shareOf = (a: PolicySummary, b: PolicySummary): number =>
  (a.incremental?.value ?? 0) / Math.max(1e-12, b.incremental?.value ?? 0);
