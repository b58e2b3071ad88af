import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PolicySummary } from '../sim/index.js';
import { POLICIES, POLICY_LABELS, TAIL, type PolicyKey, type SimReport } from './simulate.js';
import { barChart, esc, lineChart } from './svg.js';

const COLORS: Record<PolicyKey, string> = {
  autonomous: '#d62728',
  static: '#1f77b4',
  random: '#7f7f7f',
  none: '#2ca02c',
  oracle: '#9467bd',
};

const pct = (x: number, d = 2) => `${(x * 100).toFixed(d)}%`;
const signedPct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
const ciText = (e: { value: number; ciLow: number; ciHigh: number }, f: (x: number) => string) =>
  `${f(e.value)} <small>[${f(e.ciLow)}, ${f(e.ciHigh)}]</small>`;

const figuresTable = (part: Record<PolicyKey, PolicySummary>): string =>
  `<table><tr><th>policy</th><th>conversion rate</th><th>revenue / customer</th><th>incremental conversions over no action</th><th>message cost / customer</th></tr>${POLICIES.map(
    (k) =>
      `<tr><td><span class="dot" style="background:${COLORS[k]}"></span>${esc(POLICY_LABELS[k])}</td><td>${ciText(part[k].conversion, (x) => pct(x))}</td><td>${ciText(
        part[k].revenue,
        (x) => x.toFixed(2),
      )}</td><td>${part[k].incremental === undefined ? '' : ciText(part[k].incremental, (x) => `${(x * 100).toFixed(2)} pp`)}</td><td>${part[k].cost.toFixed(2)}</td></tr>`,
  ).join('')}</table>`;

/** Per persona: the autonomous policy's most frequent paths after learning, beside the oracle's. */
const pathsTable = (r: SimReport): string => {
  const personas = Object.keys(r.tail.oracle.byPersona).sort();
  const top = (k: PolicyKey, persona: string) => {
    const rows = r.tail[k].paths.filter((p) => p.persona === persona);
    const total = r.tail[k].byPersona[persona]?.n ?? 1;
    return rows
      .slice(0, 3)
      .map((p) => `${esc(p.path)} <small>(${pct(p.n / total, 0)}, converts ${pct(p.conversion, 1)})</small>`)
      .join('<br>');
  };
  return `<table><tr><th>persona</th><th>conversion: autonomous / static / oracle</th><th>autonomous: most frequent paths</th><th>oracle: most frequent paths</th></tr>${personas
    .map((p) => {
      const conv = (k: PolicyKey) => pct(r.tail[k].byPersona[p]?.conversion ?? 0, 1);
      return `<tr><td>${esc(p)}</td><td>${conv('autonomous')} / ${conv('static')} / ${conv('oracle')}</td><td>${top('autonomous', p)}</td><td>${top('oracle', p)}</td></tr>`;
    })
    .join('')}</table>`;
};

/** The report as one self-contained HTML page: figures, learning curve, uplift with intervals, emergent paths. */
export const reportHtml = (r: SimReport): string => {
  const curve = lineChart(
    POLICIES.map((k) => ({
      name: POLICY_LABELS[k],
      color: COLORS[k],
      points: r.policies[k].curve.map((w) => ({
        x: (w.from + w.to) / 2,
        y: w.conversion.value,
        ...(k === 'autonomous' ? { low: w.conversion.ciLow, high: w.conversion.ciHigh } : {}),
      })),
    })),
    {
      xLabel: 'customers (arrival order; each point is a window)',
      yLabel: 'conversion rate',
      yFormat: (y) => pct(y, 1),
    },
  );
  const uplift = (part: Record<PolicyKey, PolicySummary>) =>
    barChart(
      POLICIES.filter((k) => k !== 'none').map((k) => {
        const e = part[k].incremental as NonNullable<PolicySummary['incremental']>;
        return { name: POLICY_LABELS[k], color: COLORS[k], value: e.value, low: e.ciLow, high: e.ciHigh };
      }),
      {
        xLabel: 'incremental conversions per customer over no action (95% CI)',
        format: (x) => `${(x * 100).toFixed(2)} pp`,
      },
    );
  const c = r.comparison;
  const tailPct = `${Math.round(TAIL * 100)}%`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pathwise simulation: ${esc(r.scenario.name)}</title>
<style>body{font-family:sans-serif;max-width:980px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left;vertical-align:top}small{color:#666}.dot{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:6px}</style>
</head><body>
<h1>Simulation: ${esc(r.scenario.name)}</h1>
<p>${esc(r.scenario.description)}</p>
<p>${r.scenario.customers} customers, seed ${r.scenario.seed}. The autonomous policy ran through the product (${r.driver.mode}${
    r.driver.url === undefined ? '' : ` at ${esc(r.driver.url)}`
  }: ${r.driver.requests} requests, ${r.driver.emails} emails over SMTP, ${r.driver.webhooks} webhook messages, ${r.driver.ticks} ticks, ${(r.elapsedMs.product / 1000).toFixed(1)} s); the baselines in the pure simulator over the same customers.</p>
<p><b>Autonomous</b>: ${pct(c.shareOfOracle.all, 1)} of the oracle's incremental conversions over all customers, ${pct(c.shareOfOracle.tail, 1)} over the last ${tailPct};
conversion ${signedPct(c.vsStatic.conversion.all)} vs the static journey (last ${tailPct}: ${signedPct(c.vsStatic.conversion.tail)}), revenue per customer ${signedPct(c.vsStatic.revenue.all)} (last ${tailPct}: ${signedPct(c.vsStatic.revenue.tail)}).</p>
<h2>Learning curve</h2>${curve}
<h2>Uplift over no action</h2><h3>All customers</h3>${uplift(r.policies)}<h3>Last ${tailPct}</h3>${uplift(r.tail)}
<h2>Figures</h2><h3>All customers</h3>${figuresTable(r.policies)}<h3>Last ${tailPct} of customers</h3>${figuresTable(r.tail)}
<h2>Emergent paths (last ${tailPct})</h2>${pathsTable(r)}
${r.driver.problems.length === 0 ? '' : `<h2>Problems the product reported</h2><pre>${esc(r.driver.problems.join('\n'))}</pre>`}
</body></html>
`;
};

/** Writes `report.html` and `report.json` into `dir` (created if missing); returns their paths. */
export const writeReport = (dir: string, r: SimReport): { html: string; json: string } => {
  mkdirSync(dir, { recursive: true });
  const html = join(dir, 'report.html');
  const json = join(dir, 'report.json');
  writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(html, reportHtml(r));
  return { html, json };
};
