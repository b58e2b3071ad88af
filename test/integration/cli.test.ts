import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/net.js';
import { main, type Io } from '../../src/cli/main.js';

/** The CLI's contract: exit 0 on success; on bad input one line on stderr and a non-zero exit code. */
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pathwise-cli-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const run = async (args: string[], env: NodeJS.ProcessEnv = {}, stop: Promise<void> = Promise.resolve()) => {
  let stdout = '';
  let stderr = '';
  const io: Io = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env, stopSignal: stop };
  const code = await main(['node', 'pathwise', ...args], io);
  return { code, stdout, stderr };
};

/** `pathwise serve` in this process on a free port, until `stop()`; `running` resolves with its exit. */
const serve = async (file: string) => {
  const port = await freePort();
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const running = run(
    ['serve', '--config', file, '--db', join(dir, 'x.db'), '--port', String(port)],
    { PATHWISE_LOG_LEVEL: 'silent' },
    stopped,
  );
  return { port, stop, running };
};

describe('pathwise CLI', () => {
  it('serve refuses a missing config file with one line and exit 2', async () => {
    const r = await run(['serve', '--config', join(dir, 'nope.yaml'), '--db', join(dir, 'x.db')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^pathwise: Config file not found: .*nope\.yaml .*\[PW_ERR_CONFIG_NOT_FOUND\]/);
  });

  it('serve refuses an invalid config, naming the path and line', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'sources:\n  - name: web\n    writeKey: short\n');
    const r = await run(['serve', '--config', file, '--db', join(dir, 'x.db')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/sources\[0\]\.writeKey \(line 3\): write keys must be at least 8 characters/);
  });

  it('serve refuses a bad port and a bad log level', async () => {
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, 'workspace: t\n');
    const port = await run(['serve', '--config', file, '--port', 'eighty']);
    expect(port.code).not.toBe(0);
    expect(port.stderr).toMatch(/must be a port number/);
    const level = await run(['serve', '--config', file, '--db', join(dir, 'x.db')], {
      PATHWISE_LOG_LEVEL: 'loud',
    });
    expect(level.code).toBe(2);
    expect(level.stderr).toMatch(/PATHWISE_LOG_LEVEL "loud"/);
  });

  it('serve re-reads its config on SIGHUP: a valid file applies, a broken one is refused and changes nothing', async () => {
    const file = join(dir, 'pathwise.yaml');
    const yaml = (policy: string) =>
      [
        'sources: [{ name: web, writeKey: wk_cli_test_1 }]',
        'goal: { event: Order Completed }',
        'placements: [{ id: home }]',
        'actions: [{ id: a, channel: web, status: approved, trigger: { placements: [home] } }]',
        `policy: ${policy}`,
      ].join('\n');
    writeFileSync(file, yaml('{ killSwitch: false }'));
    const { port, stop, running } = await serve(file);
    const decide = async (): Promise<string | undefined> => {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/v1/decide`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Basic ${Buffer.from('wk_cli_test_1:').toString('base64')}`,
          },
          body: JSON.stringify({ anonymousId: 'v1', placement: 'home' }),
        });
        return ((await res.json()) as { mode: string }).mode;
      } catch {
        return undefined;
      }
    };
    const waitFor = async (want: (m: string | undefined) => boolean) => {
      let mode: string | undefined;
      for (let i = 0; i < 100; i++) {
        mode = await decide();
        if (want(mode)) return mode;
        await new Promise((r) => setTimeout(r, 30));
      }
      return mode;
    };
    expect(await waitFor((m) => m !== undefined)).not.toBe('kill-switch');
    writeFileSync(file, yaml('{ killSwitch: true }'));
    process.kill(process.pid, 'SIGHUP');
    expect(await waitFor((m) => m === 'kill-switch')).toBe('kill-switch');
    writeFileSync(file, yaml('{ killSwitch: maybe }'));
    process.kill(process.pid, 'SIGHUP');
    await new Promise((r) => setTimeout(r, 100));
    expect(await decide()).toBe('kill-switch');
    stop();
    expect((await running).code).toBe(0);
  });

  it('serve starts, answers, and stops cleanly on the stop signal', async () => {
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, 'sources: [{ name: web, writeKey: wk_cli_test_1 }]\n');
    const { port, stop, running } = await serve(file);
    let health: unknown;
    for (let i = 0; i < 100 && health === undefined; i++) {
      try {
        health = await (await fetch(`http://127.0.0.1:${port}/healthz`)).json();
      } catch {
        await new Promise((r) => setTimeout(r, 30));
      }
    }
    expect(health).toEqual({ status: 'ok', store: 'ok' });
    stop();
    const r = await running;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('config check: OK summary with exit 0; an unknown command is an error', async () => {
    const ok = await run(['config', 'check', 'examples/shop/pathwise.yaml']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(
      /OK \(workspace "shop", 2 source\(s\), 9 computed trait\(s\), 5 segment\(s\), 2 placement\(s\), 8 action\(s\), goal "Order Completed"\)/,
    );
    const unknown = await run(['fly']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown command 'fly'/);
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/serve/);
  });
});
