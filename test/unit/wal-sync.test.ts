import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WalSync } from '../../src/store/sqlite/wal-sync.js';

describe('WalSync', () => {
  const file = join(tmpdir(), `pathwise-walsync-${randomUUID()}-wal`);
  afterEach(() => rm(file, { force: true }));

  it('answers each call with an fsync begun after it, and lets calls that overlap one share the next', async () => {
    await writeFile(file, 'frames');
    const sync = new WalSync(file);
    await sync.sync();
    expect(sync.completed).toBe(1);

    // The first starts an fsync at once; the 49 after it arrive while it runs and share the next one.
    const calls = Array.from({ length: 50 }, () => sync.sync());
    const order: number[] = [];
    calls.forEach((p, i) => void p.then(() => order.push(i)));
    await Promise.all(calls);
    expect(sync.completed).toBe(3);
    expect(order[0]).toBe(0);

    await sync.close();
    await expect(sync.sync()).rejects.toThrow(/closed/);
  });

  it('fails the callers when the WAL file cannot be opened', async () => {
    const sync = new WalSync(join(tmpdir(), `pathwise-missing-${randomUUID()}`, 'x-wal'));
    await expect(sync.sync()).rejects.toThrow(/ENOENT/);
    await sync.close();
  });
});
