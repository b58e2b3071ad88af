import { randomUUID } from 'node:crypto';
import { rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyProfile, type Decision } from '../../src/domain/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { migrations } from '../../src/store/sqlite/migrations.js';
import type { EventToAppend, Store, StoreWriter } from '../../src/store/store.js';
import { storeContract, type StoreHarness } from './store.contract.js';

const tempFile = () => join(tmpdir(), `pathwise-store-${randomUUID()}.db`);
const removeDb = (file: string) =>
  Promise.all(['', '-wal', '-shm'].map((s) => rm(file + s, { force: true })));

const harness = async (file = tempFile(), synchronous?: 'full' | 'normal'): Promise<StoreHarness> => {
  let current = await openSqliteStore(synchronous === undefined ? { file } : { file, synchronous });
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = await openSqliteStore({ file });
      return current;
    },
    cleanup: async () => {
      await current.close();
      await removeDb(file);
    },
  };
};

storeContract('sqlite (file, WAL)', () => harness());

const ev = (messageId: string): EventToAppend => ({
  messageId,
  source: 'web',
  type: 'track',
  event: 'Clicked',
  timestamp: 1,
  receivedAt: 1,
  properties: {},
  traits: {},
  context: {},
  profileId: 'p1',
});

const decisionOf = (id: string): Decision => ({
  id,
  profileId: 'p1',
  at: 1,
  signal: { kind: 'segment', segment: 'vip', messageId: `seg-${id}` },
  actionId: 'a1',
  channel: 'email',
  sendAt: 1,
  propensity: 1,
  mode: 'exploit',
  holdout: false,
  modelVersion: 0,
  features: { idx: [1], val: [1] },
  explanation: {
    mode: 'exploit',
    candidates: [{ actionId: 'a1', channel: 'email' }],
    chosen: 'a1',
    propensity: 1,
    modelVersion: 0,
    summary: 'Chose a1, the only candidate.',
  },
  attributionEndsAt: 10,
});

/** Opens the file on a connection of the test's own, as another process (a backup, sqlite3 CLI) would. */
const inspect = <T>(file: string, fn: (db: Sqlite.Database) => T): T => {
  const db = new Sqlite(file, { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
};

describe('sqlite store specifics', () => {
  let h: StoreHarness | undefined;
  let file: string;
  afterEach(async () => {
    await h?.cleanup();
    h = undefined;
  });
  const open = async (synchronous?: 'full' | 'normal'): Promise<Store> => {
    file = tempFile();
    h = await harness(file, synchronous);
    await h.store.migrate();
    return h.store;
  };

  it('checkpoints on its own thread and rewinds the WAL, so the WAL stays bounded while data grows', async () => {
    file = tempFile();
    const store = await openSqliteStore({ file, checkpointEveryMs: 10, walRewindMs: 30 });
    h = {
      store,
      reopen: async () => store,
      cleanup: async () => {
        await store.close();
        await removeDb(file);
      },
    };
    await store.migrate();
    const pad = 'x'.repeat(2000);
    for (let t = 0; t < 60; t++) {
      await store.write(async (w) => {
        for (let i = 0; i < 50; i++) {
          await w.appendEvent({ ...ev(`m${t}-${i}`), properties: { pad } });
        }
      });
      // Paced like real traffic, so the checkpointer thread gets its turns even on a busy machine.
      await new Promise((r) => setTimeout(r, 20));
    }
    // ~6 MB of events went through the WAL; with checkpoints and rewinds it holds far less than that.
    const probe = new Sqlite(file, { readonly: true });
    const pages = probe.pragma('page_count', { simple: true }) as number;
    probe.close();
    const { size: walBytes } = await stat(`${file}-wal`);
    expect(pages * 4096).toBeGreaterThan(6_000_000);
    expect(walBytes).toBeLessThan(3_000_000);
    expect(await store.read.countEvents()).toBe(3000);
  });

  it('puts the database in WAL mode', async () => {
    const store = await open();
    await store.write((w) => w.appendEvent(ev('m1')));
    expect(inspect(file, (db) => db.pragma('journal_mode', { simple: true }))).toBe('wal');
  });

  it('opens with synchronous=normal when asked', async () => {
    const store = await open('normal');
    await store.write((w) => w.appendEvent(ev('m1')));
    expect(await store.read.countEvents()).toBe(1);
  });

  it('applies each migration once, however often it is reopened and migrated', async () => {
    let store = await open();
    await store.write((w) => w.appendEvent(ev('m1')));
    for (let i = 0; i < 3; i++) {
      store = await h!.reopen();
      await store.migrate();
      await store.migrate();
    }
    expect(await store.read.countEvents()).toBe(1);
    const applied = inspect(file, (db) =>
      db.prepare('SELECT name FROM kysely_migration ORDER BY name').pluck().all(),
    );
    expect(applied).toEqual(Object.keys(migrations).sort());
  });

  it('upgrades a database made before decisions existed, keeping its data', async () => {
    file = tempFile();
    const old = new Sqlite(file);
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: old }) });
    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
    expect((await migrator.migrateTo('0001_initial')).error).toBeUndefined();
    await db.destroy();
    h = await harness(file);
    await h.store.migrate();
    await h.store.write(async (w) => {
      await w.appendEvent(ev('m1'));
      await w.saveDecision(decisionOf('d1'));
    });
    expect(await h.store.read.countEvents()).toBe(1);
    expect(
      await h.store.write((w) => w.resolveDecision('d1', { reward: 1, value: 1, at: 2, kind: 'goal' })),
    ).toBe(1);
  });

  it('upgrades a database made before the outbox existed, keeping its decisions', async () => {
    file = tempFile();
    const old = new Sqlite(file);
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: old }) });
    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
    expect((await migrator.migrateTo('0002_decisions')).error).toBeUndefined();
    await db.destroy();
    h = await harness(file);
    await h.store.migrate();
    await h.store.write((w) => w.saveDecision(decisionOf('d1')));
    h.store = await h.reopen();
    await h.store.migrate();
    await h.store.write(async (w) => {
      await w.addDelivery({
        id: 'd1',
        decisionId: 'd1',
        profileId: 'p1',
        actionId: 'a1',
        channel: 'email',
        idempotencyKey: 'd1',
        sendAt: 1,
        status: 'pending',
        attempts: 0,
        nextAttemptAt: 1,
        createdAt: 1,
        updatedAt: 1,
      });
      await w.addTimer({ id: 't1', kind: 'decide', profileId: 'p1', dueAt: 1, payload: {} });
    });
    expect((await h.store.read.getDecision('d1'))?.id).toBe('d1');
    expect((await h.store.read.dueDeliveries(1, 5)).map((d) => d.id)).toEqual(['d1']);
    expect(await h.store.read.countTimers()).toBe(1);
  });

  it('holds 100,000 timers written in one transaction and finds the earliest due ones', async () => {
    const store = await open();
    const n = 100_000;
    // A permutation of 0..n-1 (7919 is prime to n), halved: every due time is shared by two timers, added far
    // apart, so both the order by time and the tie-break by insertion are exercised.
    const dueOf = (i: number) => 1_000 + Math.floor(((i * 7919) % n) / 2);
    await store.write(async (w) => {
      for (let i = 0; i < n; i++) {
        await w.addTimer({
          id: `timer-${i}`,
          kind: i % 2 === 0 ? 'decide' : 'response-window',
          profileId: `p${i % 100}`,
          dueAt: dueOf(i),
          payload: { i },
        });
      }
    });
    const expected = Array.from({ length: n }, (_, i) => i)
      .sort((a, b) => dueOf(a) - dueOf(b) || a - b)
      .map((i) => `timer-${i}`);
    expect(await store.read.countTimers()).toBe(n);
    expect(await store.read.countTimers('p7')).toBe(n / 100);
    const earliest = await store.read.dueTimers(Number.MAX_SAFE_INTEGER, 25);
    expect(earliest.map((t) => t.id)).toEqual(expected.slice(0, 25));
    expect(earliest[0]).toStrictEqual({
      id: 'timer-0',
      kind: 'decide',
      profileId: 'p0',
      dueAt: 1_000,
      payload: { i: 0 },
    });
    // Due by 1_049: the 100 timers of the first 50 due times, and no other.
    const due = await store.read.dueTimers(1_049, 1_000);
    expect(due.map((t) => t.id)).toEqual(expected.slice(0, 100));
    expect(await store.read.dueTimers(999, 10)).toEqual([]);
    // Firing the earliest ones moves the window on.
    await store.write(async (w) => {
      for (const t of due) expect(await w.deleteTimer(t.id)).toBe(true);
    });
    expect((await store.read.dueTimers(Number.MAX_SAFE_INTEGER, 3)).map((t) => t.id)).toEqual(
      expected.slice(100, 103),
    );
    expect(await store.read.countTimers()).toBe(n - 100);
  });

  it('keeps only the five newest model snapshots', async () => {
    const store = await open();
    for (let v = 1; v <= 7; v++) {
      await store.write((w) =>
        w.saveModelSnapshot({ version: v, at: v, resolvedSeq: v, data: `{"v":${v}}` }),
      );
    }
    const versions = inspect(file, (db) =>
      db.prepare('SELECT version FROM model_snapshots ORDER BY seq').pluck().all(),
    );
    expect(versions).toEqual([3, 4, 5, 6, 7]);
    expect((await store.read.latestModelSnapshot())?.version).toBe(7);
  });

  it('never hands out a resolvedSeq twice, even after the decisions that had the newest are deleted', async () => {
    const store = await open();
    const resolveIn = (id: string) =>
      store.write(async (w) => {
        await w.saveDecision(decisionOf(id));
        return w.resolveDecision(id, { reward: 0, value: 0, at: 2, kind: 'none' });
      });
    const first = await resolveIn('d1');
    await resolveIn('d2');
    // As erasing a customer's data would: a raw delete on another connection.
    const other = new Sqlite(file);
    other.prepare('DELETE FROM decisions').run();
    other.close();
    expect(await resolveIn('d3')).toBe((first as number) + 2);
  });

  it('leaves nothing in the file after a rolled-back write, and the next write works', async () => {
    const store = await open();
    await expect(
      store.write(async (w) => {
        await w.appendEvent(ev('gone'));
        await w.saveProfile(emptyProfile('p1', 1));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await store.write((w) => w.appendEvent(ev('kept')));
    const counts = inspect(file, (db) => ({
      events: db.prepare('SELECT count(*) FROM events').pluck().get(),
      profiles: db.prepare('SELECT count(*) FROM profiles').pluck().get(),
    }));
    expect(counts).toEqual({ events: 1, profiles: 0 });
  });

  it('refuses a writer used after its transaction ended', async () => {
    const store = await open();
    let leaked: StoreWriter | undefined;
    await store.write(async (w) => {
      leaked = w;
    });
    await expect(leaked!.appendEvent(ev('late'))).rejects.toThrow(/after its write\(\) transaction ended/);
    expect(await store.read.countEvents()).toBe(0);
  });

  it('refuses to save a folded profile or fold a profile into itself', async () => {
    const store = await open();
    await store.write(async (w) => {
      await w.saveProfile(emptyProfile('p1', 1));
      await w.saveProfile(emptyProfile('p2', 1));
      await w.foldProfile('p2', 'p1', 2);
    });
    await expect(store.write((w) => w.saveProfile(emptyProfile('p2', 3)))).rejects.toThrow(/merged into p1/);
    await expect(store.write((w) => w.foldProfile('p1', 'p1', 3))).rejects.toThrow(/into itself/);
    await expect(store.write((w) => w.foldProfile('p3', 'p2', 3))).rejects.toThrow(/live profile/);
    expect(await store.read.resolveProfileId('p2')).toBe('p1');
  });

  it('says to run migrate() when the schema is missing', async () => {
    file = tempFile();
    h = await harness(file);
    await expect(h.store.write((w) => w.appendEvent(ev('m1')))).rejects.toThrow(/migrate\(\)/);
  });

  it('rejects writes once closed; close is idempotent', async () => {
    const store = await open();
    await store.close();
    await store.close();
    await expect(store.write(async () => 1)).rejects.toThrow(/closed/);
  });

  it('close waits for queued writes to commit', async () => {
    const store = await open();
    const writes = [1, 2, 3].map((i) => store.write((w) => w.appendEvent(ev(`q${i}`))));
    await store.close();
    await Promise.all(writes);
    expect(inspect(file, (db) => db.prepare('SELECT count(*) FROM events').pluck().get())).toBe(3);
  });

  it('rejects malformed cursors and limits with a query error', async () => {
    const store = await open();
    const cursor = (await store.read.profilesInSegment('s', { limit: 1 })).next;
    expect(cursor).toBeUndefined();
    await expect(store.read.deadLetters({ limit: 1, cursor: 'WyJ0IiwxLDEsMV0' })).rejects.toMatchObject({
      code: 'PW_ERR_QUERY_INVALID',
      field: 'cursor',
    });
    await expect(store.read.timeline('p1', { limit: 0 })).rejects.toMatchObject({ field: 'limit' });
    await expect(store.read.dueTimers(1, 0)).rejects.toMatchObject({ field: 'limit' });
    await expect(store.read.dueDeliveries(1, 1.5)).rejects.toMatchObject({ field: 'limit' });
    await expect(store.read.auditLog({ limit: 1, cursor: 'not-a-cursor' })).rejects.toMatchObject({
      code: 'PW_ERR_QUERY_INVALID',
      field: 'cursor',
    });
  });

  it('works in memory, on one connection', async () => {
    const store = await openSqliteStore({ file: ':memory:' });
    try {
      await store.migrate();
      await store.write(async (w) => {
        await w.saveProfile({ ...emptyProfile('p1', 1), segments: ['s'] });
        await w.linkIdentities('p1', [{ kind: 'userId', value: 'u1' }], 1);
        await w.appendEvent(ev('m1'));
      });
      expect(await store.read.resolveProfileId('u1')).toBe('p1');
      expect((await store.read.timeline('p1', { limit: 5 })).items).toHaveLength(1);
      expect((await store.read.profilesInSegment('s', { limit: 5 })).items).toEqual(['p1']);
    } finally {
      await store.close();
    }
  });
});
