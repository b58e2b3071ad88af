import type { Estimate } from '../sim/index.js';
import { POLICIES, POLICY_LABELS, TAIL, type SimReport } from './simulate.js';

const pct = (x: number, digits = 2) => `${(x * 100).toFixed(digits)}%`;
const ci = (e: Estimate, f: (x: number) => string) => `${f(e.value)} [${f(e.ciLow)}, ${f(e.ciHigh)}]`;
const money = (x: number) => x.toFixed(2);
const signed = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

/** The report's figures as a plain-text table (the CLI's and the benchmark's output). */
export const formatReport = (r: SimReport): string => {
  const lines: string[] = [];
  const section = (title: string, part: SimReport['policies']) => {
    lines.push(title);
    lines.push(
      `  ${'policy'.padEnd(24)}${'conversion [95% CI]'.padEnd(28)}${'revenue/customer [95% CI]'.padEnd(28)}incremental conv. [95% CI]`,
    );
    for (const k of POLICIES) {
      const s = part[k];
      lines.push(
        `  ${POLICY_LABELS[k].padEnd(24)}${ci(s.conversion, (x) => pct(x)).padEnd(28)}${ci(s.revenue, money).padEnd(28)}${
          s.incremental === undefined
            ? ''
            : ci(s.incremental, (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}pp`)
        }`,
      );
    }
  };
  lines.push(
    `scenario ${r.scenario.name}: ${r.scenario.customers} customers, seed ${r.scenario.seed}; autonomous through the product (${r.driver.mode}${
      r.driver.url === undefined ? '' : ` ${r.driver.url}`
    }: ${r.driver.requests} requests, ${r.driver.emails} emails, ${r.driver.webhooks} webhook messages) in ${(r.elapsedMs.product / 1000).toFixed(1)} s`,
  );
  section('all customers (learning included):', r.policies);
  section(`last ${Math.round(TAIL * 100)}% of customers (after learning):`, r.tail);
  const c = r.comparison;
  lines.push(
    `autonomous as a share of the oracle's incremental conversions: ${pct(c.shareOfOracle.all, 1)} (all), ${pct(c.shareOfOracle.tail, 1)} (last ${Math.round(TAIL * 100)}%)`,
  );
  lines.push(
    `autonomous vs static journey: conversion ${signed(c.vsStatic.conversion.all)} (all), ${signed(c.vsStatic.conversion.tail)} (last ${Math.round(TAIL * 100)}%); revenue/customer ${signed(c.vsStatic.revenue.all)} (all), ${signed(c.vsStatic.revenue.tail)} (last ${Math.round(TAIL * 100)}%)`,
  );
  if (r.driver.problems.length > 0)
    lines.push(`the product reported ${r.driver.problems.length} problem(s); first: ${r.driver.problems[0]}`);
  return `${lines.join('\n')}\n`;
};
