import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import type { SimReport } from '../../src/sim-run/index.js';

const SCENARIO = fileURLToPath(new URL('../../examples/sim/two-channels/scenario.yaml', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pathwise-sim-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (args: string[], stopSignal: Promise<void> = new Promise(() => undefined)) =>
  runCli(['simulate', ...args], { stopSignal });

/** Two-proportion z statistic of a − b (each a rate over its n customers). */
const z = (a: SimReport['policies']['random']['conversion'], b: typeof a) =>
  (a.value - b.value) / Math.sqrt((a.value * (1 - a.value)) / a.n + (b.value * (1 - b.value)) / b.n);

describe('pathwise simulate', () => {
  it('through the real product, the autonomous policy beats uniform random; the report is written as HTML and JSON', async () => {
    const out = join(dir, 'report');
    const r = await run([SCENARIO, '--customers', '2000', '--seed', '7', '--report', out, '--no-progress']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/autonomous \(Pathwise\)\s+\d+\.\d+% \[/);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as SimReport;
    // The product did the work: real deliveries over SMTP and webhooks, customers' events through ingest.
    expect(report.driver.mode).toBe('in-process');
    expect(report.driver.emails).toBeGreaterThan(100);
    expect(report.driver.webhooks).toBeGreaterThan(100);
    expect(report.driver.problems).toEqual([]);
    const { autonomous, random, none, oracle } = report.policies;
    expect(autonomous.conversion.n).toBe(2000);
    // A margin of 3 standard errors (one-sided p < 0.0015), over every customer, learning included.
    expect(z(autonomous.conversion, random.conversion)).toBeGreaterThan(3);
    expect(autonomous.incremental!.ciLow).toBeGreaterThan(0);
    expect(oracle.conversion.value).toBeGreaterThan(none.conversion.value);
    // After learning, it sends each persona its channel.
    const paths = report.tail.autonomous.paths;
    const top = (persona: string) => paths.find((p) => p.persona === persona)?.path;
    expect(top('readers')).toBe('email_offer');
    expect(top('texters')).toBe('sms_offer');
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html.match(/<svg /g)?.length).toBeGreaterThanOrEqual(3);
    expect(html).toContain('Learning curve');
    expect(html).toContain('Emergent paths');
  }, 120_000);

  it('with --http, serves the product on a port and sends every event over HTTP', async () => {
    const r = await run([SCENARIO, '--customers', '150', '--http', 'http://127.0.0.1:0', '--no-progress']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /\(http http:\/\/127\.0\.0\.1:\d+: \d+ requests, [1-9]\d* emails, [1-9]\d* webhook messages\)/,
    );
  }, 60_000);

  it('Ctrl-C stops the run: one line, exit code 130', async () => {
    const r = await run([SCENARIO, '--no-progress'], Promise.resolve());
    expect(r.code).toBe(130);
    expect(r.stderr).toBe('pathwise: simulation interrupted; no figures\n');
    expect(r.stdout).toBe('');
  });

  it('bad input: one line on stderr, exit code not 0', async () => {
    const missing = await run([join(dir, 'nope.yaml'), '--no-progress']);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(
      /^pathwise: Invalid simulation scenario .*nope\.yaml: cannot read it \(ENOENT\).*\[PW_ERR_SIM_SCENARIO\]/,
    );
    const customers = await run([SCENARIO, '--customers', 'lots']);
    expect(customers.code).not.toBe(0);
    expect(customers.stderr).toMatch(/must be a whole number/);
    const http = await run([SCENARIO, '--http', 'ftp://x']);
    expect(http.code).not.toBe(0);
    expect(http.stderr).toMatch(/must be an http:\/\/ URL/);
  });

  it('a scenario with a bad field or a mismatched workspace is refused, naming the field', async () => {
    const { writeFileSync, readFileSync: read } = await import('node:fs');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, read(SCENARIO, 'utf8').replace('baseRate: 0.02', 'baseRate: 2'));
    const r = await run([bad, '--no-progress']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/population\[0\]\.baseRate: a probability from 0 to 1/);
    const mismatched = join(dir, 'two-channels', 'scenario.yaml');
    const { mkdirSync, cpSync } = await import('node:fs');
    mkdirSync(join(dir, 'two-channels'), { recursive: true });
    cpSync(join(SCENARIO, '..'), join(dir, 'two-channels'), { recursive: true });
    writeFileSync(
      mismatched,
      read(SCENARIO, 'utf8').replace('email_offer: { channel: email }', 'email_offer: { channel: sms }'),
    );
    const m = await run([mismatched, '--customers', '10', '--no-progress']);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/actions\.email_offer\.channel: sms here, email in the workspace/);
  });
});
