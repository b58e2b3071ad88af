import type { Estimate, OffPolicyEstimates } from '../../learn/ope/index.js';
import type { EvaluationReport } from './run-evaluation.js';

/** An estimate in the JSON output: snake_case, and null for what cannot be estimated (NaN). */
interface JsonEstimate {
  value: number | null;
  ci_low: number | null;
  ci_high: number | null;
  n: number;
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

const jsonEstimate = (e: Estimate): JsonEstimate => ({
  value: finite(e.value),
  ci_low: finite(e.ciLow),
  ci_high: finite(e.ciHigh),
  n: e.n,
});

const jsonEstimates = (e: OffPolicyEstimates) => ({
  ips: jsonEstimate(e.ips),
  snips: jsonEstimate(e.snips),
  dr: jsonEstimate(e.dr),
});

/**
 * The `--json` document (docs/evaluation.md): `logging`, `actions` (each action's SNIPS value, the headline),
 * `learned` (replay, or ips/snips/dr), each estimate `{value, ci_low, ci_high, n}`; beside them the row counts,
 * every action's three estimates (`action_estimates`) and logged counts, and `uniform` when asked for.
 */
export const reportJson = (r: EvaluationReport): Record<string, unknown> => {
  const out: Record<string, unknown> = { source: r.source, rows: r.rows };
  if (r.trainRows !== undefined) out.train_rows = r.trainRows;
  out.logging = jsonEstimate(r.logging);
  out.actions = Object.fromEntries(r.actions.map((a) => [a.label, jsonEstimate(a.estimates.snips)]));
  if (r.learned !== undefined) {
    out.learned =
      'replay' in r.learned ? { replay: jsonEstimate(r.learned.replay) } : jsonEstimates(r.learned);
  }
  if (r.uniform !== undefined) out.uniform = { actions: r.uniform.actions, ...jsonEstimates(r.uniform) };
  out.action_estimates = Object.fromEntries(r.actions.map((a) => [a.label, jsonEstimates(a.estimates)]));
  out.action_counts = Object.fromEntries(r.actions.map((a) => [a.label, a.logged]));
  return out;
};

/** Four significant digits; a dash for what cannot be estimated. */
const num = (x: number): string => (Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : '—');
const interval = (e: Estimate): string => `[${num(e.ciLow)}, ${num(e.ciHigh)}]`;
const cell = (e: Estimate): string => `${num(e.value)} ${interval(e)}`;

const table = (rows: string[][]): string[] => {
  const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) =>
    r
      .map((v, c) => (c === r.length - 1 ? v : v.padEnd(widths[c] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
};

/** Numeric labels in numeric order, the rest after them alphabetically. */
const byLabel = (a: string, b: string): number => {
  const x = Number(a);
  const y = Number(b);
  const xn = a.trim() !== '' && Number.isFinite(x);
  const yn = b.trim() !== '' && Number.isFinite(y);
  if (xn && yn) return x - y;
  if (xn !== yn) return xn ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
};

/** The human-readable report: the policies, then each action's value. */
export const reportText = (r: EvaluationReport): string => {
  const seconds = r.elapsedMs / 1000;
  const lines = [
    `evaluated ${r.rows} rows from ${r.source} in ${seconds.toFixed(1)} s ` +
      `(${Math.round(r.rows / Math.max(seconds, 0.001))} rows/s), ${r.actions.length} actions; ` +
      `values are mean reward per decision with 95% intervals`,
    '',
  ];
  const policies: string[][] = [['policy', 'estimator', 'value', '95% interval', 'n']];
  const add = (policy: string, estimator: string, e: Estimate) =>
    policies.push([policy, estimator, num(e.value), interval(e), String(e.n)]);
  add('logging (the log itself)', 'on-policy', r.logging);
  if (r.uniform !== undefined) {
    const name = `uniform over ${r.uniform.actions} actions`;
    for (const k of ['ips', 'snips', 'dr'] as const) add(name, k, r.uniform[k]);
  }
  if (r.learned !== undefined) {
    if ('replay' in r.learned) add('learned (Thompson, replay)', 'replay (matched rows)', r.learned.replay);
    else {
      const name = `learned (greedy, trained on ${r.trainRows ?? 0} rows)`;
      for (const k of ['ips', 'snips', 'dr'] as const) add(name, k, r.learned[k]);
    }
  }
  lines.push(...table(policies), '');
  const actions: string[][] = [['action (always it)', 'logged', 'ips', 'snips', 'dr']];
  for (const a of [...r.actions].sort((x, y) => byLabel(x.label, y.label))) {
    const e = a.estimates;
    actions.push([a.label, String(a.logged), cell(e.ips), cell(e.snips), cell(e.dr)]);
  }
  lines.push(...table(actions));
  const all = [r.logging, ...r.actions.flatMap((a) => Object.values(a.estimates))];
  if (r.uniform !== undefined) all.push(r.uniform.ips, r.uniform.snips, r.uniform.dr);
  if (r.learned !== undefined) all.push(...Object.values(r.learned));
  if (all.some((e) => e.n >= 2 && e.ciLow === e.ciHigh)) {
    lines.push(
      '',
      'An interval of zero width means every term was the same (e.g. no reward in the rows the policy agrees with):',
      'the normal approximation says nothing about the uncertainty there.',
    );
  }
  return `${lines.join('\n')}\n`;
};
