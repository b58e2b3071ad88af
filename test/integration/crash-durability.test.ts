import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Sqlite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/net.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';

/**
 * "Nothing accepted is ever lost": a real `pathwise serve` process takes concurrent batches and is killed with
 * SIGKILL mid-stream, several times at different moments. Every event it acknowledged must be in the database
 * afterwards, and stored once.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const KEY = 'wk_crash_test_key';

const startServer = async (config: string, db: string): Promise<{ child: ChildProcess; base: string }> => {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'bin/pathwise-dev.js',
      'serve',
      '--config',
      config,
      '--db',
      db,
      '--port',
      String(port),
    ],
    { cwd: ROOT, env: { ...process.env, PATHWISE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const base = `http://127.0.0.1:${port}`;
  // A deadline, not a count: starting through tsx takes seconds on a busy machine (CI runs suites in parallel).
  for (const deadline = Date.now() + 45_000; Date.now() < deadline;) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return { child, base };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error('server did not start');
};

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('durability under SIGKILL', () => {
  it('every acknowledged event survives a kill -9 at any moment, exactly once', async () => {
    dir = mkdtempSync(join(tmpdir(), 'pathwise-crash-'));
    const config = join(dir, 'pathwise.yaml');
    const db = join(dir, 'crash.db');
    writeFileSync(
      config,
      [
        'sources: [{ name: web, writeKey: ' + KEY + ' }]',
        'computedTraits: [{ name: n, kind: count, event: Tick }]',
        'segments: [{ name: busy, where: computed.n >= 3 }]',
      ].join('\n'),
    );
    const auth = `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`;
    const acked = new Set<string>();
    let sent = 0;

    for (const killAfterMs of [150, 400, 90]) {
      const { child, base } = await startServer(config, db);
      const exited = new Promise((r) => child.once('exit', r));
      let stop = false;
      const sender = async (lane: number) => {
        while (!stop) {
          const batch = Array.from({ length: 50 }, (_, i) => ({
            type: 'track',
            event: 'Tick',
            userId: `u${(sent + i) % 40}`,
            messageId: `k${killAfterMs}-l${lane}-${sent++}-${i}`,
          }));
          try {
            const res = await fetch(`${base}/v1/batch`, {
              method: 'POST',
              headers: { authorization: auth, 'content-type': 'application/json' },
              body: JSON.stringify({ batch }),
            });
            if (res.status === 200) for (const e of batch) acked.add(e.messageId);
          } catch {
            return; // the server is gone: unacknowledged batches may or may not have landed
          }
        }
      };
      const lanes = [0, 1, 2, 3].map(sender);
      // Kill only once this run has acknowledged something (a slow machine must not make the test vacuous),
      // then a little later, so the kill lands mid-stream at a different moment each run.
      const before = acked.size;
      for (let waited = 0; acked.size < before + 100 && waited < 20_000; waited += 10) {
        await new Promise((r) => setTimeout(r, 10));
      }
      await new Promise((r) => setTimeout(r, killAfterMs));
      child.kill('SIGKILL');
      stop = true;
      await exited;
      await Promise.all(lanes);
    }

    // Each of the three runs had time to acknowledge batches before it was killed.
    expect(acked.size).toBeGreaterThan(300);
    const store = await openSqliteStore({ file: db });
    await store.migrate();
    try {
      const missing: string[] = [];
      await store.write(async (w) => {
        for (const id of acked) if (!(await w.hasMessage('web', id))) missing.push(id);
      });
      expect(missing).toEqual([]);
    } finally {
      await store.close();
    }
    // Exactly once: every stored source event has its own messageId.
    const probe = new Sqlite(db, { readonly: true });
    try {
      const row = probe
        .prepare("SELECT COUNT(*) AS n, COUNT(DISTINCT message_id) AS d FROM events WHERE source = 'web'")
        .get() as { n: number; d: number };
      expect(row.n).toBe(row.d);
      expect(row.n).toBeGreaterThanOrEqual(acked.size);
    } finally {
      probe.close();
    }
  }, 60_000);
});
