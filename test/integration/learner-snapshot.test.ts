import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { BanditModel, SNAPSHOT_FORMAT } from '../../src/learn/index.js';
import { Learner } from '../../src/orchestrate/learner.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/store.js';

const SETTINGS = { featureBits: 12, priorVariance: 1, minObservations: 5 };
const x = { idx: [3, 7, 11], val: [1, 1, 2] };

describe('Learner snapshots', () => {
  let store: Store | undefined;
  const file = join(tmpdir(), `pathwise-learner-${randomUUID()}.db`);
  afterEach(async () => {
    await store?.close();
    await rm(file, { force: true });
    await rm(`${file}-wal`, { force: true });
    await rm(`${file}-shm`, { force: true });
  });

  const open = (s: Store) =>
    Learner.open(s, { ...SETTINGS, propensitySamples: 64 }, { snapshotEvery: 1000, now: () => 0 });

  it('loads a snapshot of the current format, and relearns (without failing) past one of an older format', async () => {
    store = await openSqliteStore({ file });
    await store.migrate();
    const trained = new BanditModel(SETTINGS);
    for (let i = 0; i < 20; i++) trained.update('a', x, i % 3 === 0 ? 1 : 0);
    const save = (data: unknown, version: number) =>
      store!.write((w) =>
        w.saveModelSnapshot({ version, at: version, resolvedSeq: 0, data: JSON.stringify(data) }),
      );

    await save(trained.snapshot(), 1);
    const loaded = await open(store);
    expect(loaded.model.snapshot().format).toBe(SNAPSHOT_FORMAT);
    expect(loaded.model.version).toBe(20);
    expect(loaded.model.posterior('a', x)).toEqual(trained.posterior('a', x));

    // A snapshot written by an older release (format 1: another weight layout) is skipped, not fatal.
    await save({ ...trained.snapshot(), format: 1 }, 2);
    const relearned = await open(store);
    expect(relearned.model.version).toBe(0);
    expect(relearned.model.observations('a')).toBe(0);
  });
});
