import { fileURLToPath } from 'node:url';
import { formatReport, simulate, writeReport, TAIL, type SimReport } from '../src/sim-run/index.js';

/**
 * `npm run bench:learning`: does the engine learn? The shop scenario (examples/sim/shop) with 50,000 customers:
 * the autonomous policy through the real product, the static journey, uniform random, no action and the oracle
 * in the pure simulator over the same customers. Prints conversion rate and revenue per customer with 95%
 * intervals, the autonomous policy's share of the oracle's incremental conversions over no action, and its
 * lift over the static journey, against the targets (≥ 85% of the oracle's incremental conversions within
 * 50,000 customers; ≥ 25% over the static journey).
 *
 * Options: --scenario FILE, --customers N, --seed N, --report DIR, --http URL.
 */

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

const TARGET_ORACLE_SHARE = 0.85;
const TARGET_VS_STATIC = 0.25;

const verdict = (r: SimReport): string => {
  const c = r.comparison;
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const tail = `last ${Math.round(TAIL * 100)}% of customers`;
  return [
    `target: autonomous ≥ ${TARGET_ORACLE_SHARE * 100}% of the oracle's incremental conversions within ${r.scenario.customers} customers: ${(c.shareOfOracle.tail * 100).toFixed(1)}% over the ${tail} (${met(c.shareOfOracle.tail >= TARGET_ORACLE_SHARE)}), ${(c.shareOfOracle.all * 100).toFixed(1)}% over all (${met(c.shareOfOracle.all >= TARGET_ORACLE_SHARE)})`,
    `target: autonomous beats the static journey by ≥ ${TARGET_VS_STATIC * 100}% (conversion rate): ${(c.vsStatic.conversion.tail * 100).toFixed(1)}% over the ${tail} (${met(c.vsStatic.conversion.tail >= TARGET_VS_STATIC)}), ${(c.vsStatic.conversion.all * 100).toFixed(1)}% over all (${met(c.vsStatic.conversion.all >= TARGET_VS_STATIC)})`,
  ].join('\n');
};

const main = async () => {
  const scenarioFile =
    arg('scenario') ?? fileURLToPath(new URL('../examples/sim/shop/scenario.yaml', import.meta.url));
  const customers = Number(arg('customers') ?? 50_000);
  const seed = arg('seed');
  const report = arg('report');
  const http = arg('http');
  const started = performance.now();
  let last = 0;
  const r = await simulate({
    scenarioFile,
    customers,
    ...(seed === undefined ? {} : { seed: Number(seed) }),
    ...(http === undefined ? {} : { http }),
    onProgress: (phase, done, total) => {
      const now = performance.now();
      if (now - last < 5000 && done < total) return;
      last = now;
      process.stderr.write(`  ${phase}: ${done}/${total} (${((now - started) / 1000).toFixed(0)} s)\n`);
    },
  });
  process.stdout.write(formatReport(r));
  process.stdout.write(`${verdict(r)}\n`);
  process.stdout.write(`took ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  if (report !== undefined) {
    const files = writeReport(report, r);
    process.stdout.write(`report: ${files.html}\n`);
  }
};

await main();
