import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main, type Io } from '../../src/cli/main.js';
import { loadConfigFile } from '../../src/config/load.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { parseCell, planColumns, rowToCall } from '../../src/ingest/import/index.js';
import type { StoredEvent } from '../../src/domain/index.js';

/**
 * `pathwise import` end to end: the command runs in-process through main() (and once as a real child
 * process), then a fresh runtime on the same database checks what reached the store.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURES = join(ROOT, 'test/fixtures/import');

let dir: string;
let config: string;
let db: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pathwise-import-'));
  config = join(dir, 'pathwise.yaml');
  db = join(dir, 'pathwise.db');
  writeFileSync(config, 'workspace: import-test\nstorage:\n  synchronous: normal\n');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const run = async (args: string[], stopSignal: Promise<void> = new Promise(() => {})): Promise<Run> => {
  let stdout = '';
  let stderr = '';
  const io: Io = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: {}, stopSignal };
  const code = await main(['node', 'pathwise', ...args], io);
  return { code, stdout, stderr };
};

const importFile = (file: string, ...extra: string[]): Promise<Run> =>
  run(['import', file, '--config', config, '--db', db, ...extra]);

const withStore = async <T>(fn: (rt: Runtime) => Promise<T>): Promise<T> => {
  const rt = await openRuntime({
    config: loadConfigFile(config),
    db,
    env: {},
    logger: pino({ level: 'silent' }),
  });
  try {
    return await fn(rt);
  } finally {
    await rt.close();
  }
};

const eventsOf = async (rt: Runtime, userId: string): Promise<StoredEvent[]> => {
  const id = await rt.store.read.resolveProfileId(userId);
  expect(id, `profile for ${userId}`).toBeDefined();
  const page = await rt.store.read.timeline(id as string, { limit: 100 });
  return page.items.flatMap((t) => (t.kind === 'event' ? [t.event] : []));
};

const traitsOf = async (rt: Runtime, userId: string) => {
  const id = await rt.store.read.resolveProfileId(userId);
  return (await rt.store.read.getProfile(id as string))?.traits;
};

const write = (name: string, text: string): string => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

describe('pathwise import (JSONL)', () => {
  it('keeps historical timestamps: no clock-skew correction against the import time', async () => {
    const line = JSON.stringify({
      type: 'track',
      userId: 'hist-1',
      event: 'Order Completed',
      messageId: 'h1',
      timestamp: '2024-03-01T10:00:00.000Z',
      sentAt: '2024-03-01T10:00:02.000Z',
    });
    const r = await importFile(write('history.jsonl', `${line}\n`));
    expect(r.code).toBe(0);
    const [ev] = await withStore((rt) => eventsOf(rt, 'hist-1'));
    expect(ev?.timestamp).toBe(Date.parse('2024-03-01T10:00:00.000Z'));
    expect(ev?.sentAt).toBe(Date.parse('2024-03-01T10:00:02.000Z'));
  });

  const file = join(FIXTURES, 'events.jsonl');

  it('imports every line through ingest, reports counts and rejections with line numbers', async () => {
    const r = await importFile(file);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      new RegExp(
        `^imported 6 events from ${file} in \\d+\\.\\d s \\(\\d+ events/s\\): 4 accepted, 0 duplicates, 2 rejected$`,
      ),
    );
    expect(lines[1]).toMatch(/^ {2}line 4: not valid JSON \(.+\)$/);
    expect(lines[2]).toBe('  line 6: userId: required when anonymousId is absent');
    expect(lines).toHaveLength(3);

    await withStore(async (rt) => {
      expect(await rt.store.read.countEvents()).toBe(4);
      expect(await traitsOf(rt, 'ada')).toMatchObject({ email: 'ada@example.com', plan: 'pro' });
      const ada = await eventsOf(rt, 'ada');
      expect(ada.map((e) => e.type).sort()).toEqual(['identify', 'track']);
      const order = ada.find((e) => e.type === 'track');
      expect(order?.properties).toEqual({ total: 42 });
      expect(order?.timestamp).toBe(Date.parse('2024-05-01T11:00:00Z'));
      expect(order?.source).toBe('import');
      // Lines without a messageId get one derived from the line; a given one is kept.
      expect(order?.messageId).toMatch(/^imp-[0-9a-f]{32}$/);
      expect((await eventsOf(rt, 'bob'))[0]?.messageId).toBe('crm-signup-bob');
      expect(await rt.store.read.resolveProfileId('anonymousId:anon-1')).toBeDefined();

      const dead = (await rt.store.read.deadLetters({ limit: 10, source: 'import' })).items;
      expect(dead).toHaveLength(2);
      const badJson = dead.find((d) => d.code === 'PW_ERR_INGEST_BODY');
      expect(badJson?.reason).toMatch(/^events\.jsonl:4: not valid JSON/);
      expect(badJson?.payload).toBe(
        '{"type":"track","userId":"ada","event":"Order Completed","properties":{"total":7}',
      );
      const invalid = dead.find((d) => d.code === 'PW_ERR_INGEST_INVALID');
      expect(invalid?.field).toBe('userId');
      expect(JSON.parse(invalid?.payload ?? '{}')).toMatchObject({ type: 'track', event: 'No Identity' });
    });
  });

  it('is idempotent: a second run reports every valid line as a duplicate and stores nothing new', async () => {
    expect((await importFile(file)).code).toBe(0);
    const again = await importFile(file);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/: 0 accepted, 4 duplicates, 2 rejected\n/);
    await withStore(async (rt) => expect(await rt.store.read.countEvents()).toBe(4));
  });

  it('uses --source as the dedup scope and the dead-letter source', async () => {
    await importFile(file);
    const other = await importFile(file, '--source', 'crm-2024');
    expect(other.stdout).toMatch(/: 4 accepted, 0 duplicates, 2 rejected\n/);
    await withStore(async (rt) => {
      expect(await rt.store.read.countEvents()).toBe(8);
      expect((await rt.store.read.deadLetters({ limit: 10, source: 'crm-2024' })).items).toHaveLength(2);
    });
  });

  it('commits chunk by chunk, keeps rejections in file order and lists at most 10', async () => {
    const lines: string[] = [];
    for (let i = 1; i <= 30; i++) {
      // Every third line is broken JSON, every fifth lacks an identity, the rest are good.
      if (i % 3 === 0) lines.push(`{"type":"track",`);
      else if (i % 5 === 0) lines.push(JSON.stringify({ type: 'track', event: `E${i}` }));
      else lines.push(JSON.stringify({ type: 'track', userId: `u${i}`, event: `E${i}` }));
    }
    const r = await importFile(write('many.ndjson', `${lines.join('\n')}\n`), '--batch-size', '4');
    expect(r.code).toBe(0);
    // 10 broken (3, 6, …, 30); 4 without identity (5, 10, 20, 25; 15 is broken first).
    expect(r.stdout).toMatch(/imported 30 events .*: 16 accepted, 0 duplicates, 14 rejected\n/);
    const listed = r.stdout.split('\n').filter((l) => l.startsWith('  line '));
    expect(listed.map((l) => Number(/line (\d+)/.exec(l)?.[1]))).toEqual([
      3, 5, 6, 9, 10, 12, 15, 18, 20, 21,
    ]);
    expect(r.stdout).toContain('  … and 4 more (see GET /v1/dead-letter)\n');
    await withStore(async (rt) => {
      expect(await rt.store.read.countEvents()).toBe(16);
      expect((await rt.store.read.deadLetters({ limit: 100 })).items).toHaveLength(14);
    });
  });

  it('stops between chunks when asked to (Ctrl-C) and a rerun finishes the file', async () => {
    const lines = Array.from({ length: 10 }, (_, i) =>
      JSON.stringify({ type: 'track', userId: 'u', event: `E${i}` }),
    );
    const file10 = write('ten.jsonl', lines.join('\n'));
    const stopped = await run(
      ['import', file10, '--config', config, '--db', db, '--batch-size', '3'],
      Promise.resolve(),
    );
    expect(stopped.code).toBe(130);
    expect(stopped.stdout).toMatch(
      /imported 3 events .*: 3 accepted, 0 duplicates, 0 rejected\ninterrupted after line 3/,
    );
    const rest = await importFile(file10);
    expect(rest.stdout).toMatch(/imported 10 events .*: 7 accepted, 3 duplicates, 0 rejected\n/);
    await withStore(async (rt) => expect(await rt.store.read.countEvents()).toBe(10));
  });
});

describe('pathwise import (CSV)', () => {
  const file = join(FIXTURES, 'customers.csv');

  it('maps rows to Segment calls with typed cells; ragged rows are rejected with their line', async () => {
    const r = await importFile(file);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^imported 7 events from .*customers\.csv in .*: 5 accepted, 0 duplicates, 2 rejected\n/,
    );
    // Line numbers count physical lines: the blank line 7 and the two-line cell on 8-9 included.
    expect(r.stdout).toContain('  line 5: row has 3 cells but the header has 14 columns\n');
    expect(r.stdout).toContain('  line 10: row has 4 cells but the header has 14 columns\n');

    await withStore(async (rt) => {
      expect(await rt.store.read.countEvents()).toBe(5);
      // Other columns of identify rows are traits: numbers and booleans typed, zip and phone kept as text.
      expect(await traitsOf(rt, 'cust-1')).toEqual({
        name: 'Ada Lovelace',
        email: 'c1@example.com',
        plan: 'pro',
        age: 42,
        zip: '02139',
        phone: '+447911123456',
        vip: true,
      });
      expect(await traitsOf(rt, 'cust-2')).toEqual({
        email: 'c2@example.com',
        plan: 'free',
        age: 3.5,
        vip: false,
      });

      const c1 = await eventsOf(rt, 'cust-1');
      const identify = c1.find((e) => e.type === 'identify');
      expect(identify?.context).toEqual({ ip: '10.0.0.1' });
      expect(identify?.timestamp).toBe(Date.parse('2024-05-01T10:00:00Z'));
      const order = c1.find((e) => e.type === 'track');
      expect(order?.event).toBe('Order Completed');
      expect(order?.properties).toEqual({ product: { id: 'sku-9' }, price: 19.9 });

      const page = (await eventsOf(rt, 'cust-2')).find((e) => e.type === 'page');
      expect(page?.event).toBe('Pricing');
      expect(page?.properties).toEqual({});
      expect((await eventsOf(rt, 'cust-4'))[0]?.event).toBe('Multi\r\nline');

      const dead = (await rt.store.read.deadLetters({ limit: 10 })).items;
      expect(dead.map((d) => [d.code, d.reason, d.payload])).toEqual(
        expect.arrayContaining([
          [
            'PW_ERR_INGEST_INVALID',
            'customers.csv:5: row has 3 cells but the header has 14 columns',
            ',cust-3,Broken',
          ],
          [
            'PW_ERR_INGEST_INVALID',
            'customers.csv:10: row has 4 cells but the header has 14 columns',
            ',cust-5,x,y',
          ],
        ]),
      );
    });
  });

  it('is idempotent across runs', async () => {
    await importFile(file);
    const again = await importFile(file);
    expect(again.stdout).toMatch(/: 0 accepted, 5 duplicates, 2 rejected\n/);
    await withStore(async (rt) => expect(await rt.store.read.countEvents()).toBe(5));
  });

  it('refuses an ambiguous header before importing anything', async () => {
    const r = await importFile(write('bad.csv', 'userId,user_id,event\nu1,u1,A\n'));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^pathwise: Cannot read import file: .*bad\.csv: header \(line 1\): columns "userId" and "user_id" both map to userId \[PW_ERR_IMPORT_FILE\]\n$/,
    );
    await withStore(async (rt) => expect(await rt.store.read.countEvents()).toBe(0));
  });
});

describe('csv-row mapping', () => {
  it('types cells: numbers in plain form, booleans, everything else text', () => {
    expect(parseCell('')).toBeUndefined();
    expect(parseCell('42')).toBe(42);
    expect(parseCell('-3.5')).toBe(-3.5);
    expect(parseCell('0')).toBe(0);
    expect(parseCell('007')).toBe('007');
    expect(parseCell('+447911123456')).toBe('+447911123456');
    expect(parseCell('1e5')).toBe('1e5');
    expect(parseCell('12345678901234567890')).toBe('12345678901234567890');
    expect(parseCell('TRUE')).toBe(true);
    expect(parseCell('false')).toBe(false);
    expect(parseCell('yes')).toBe('yes');
  });

  it('defaults the type from the event column and routes other columns by type', () => {
    const plan = planColumns(['event', 'user_id', 'plan', 'traits.tier', 'properties.a.b']);
    expect(
      rowToCall(plan, { event: '', user_id: 'u', plan: 'pro', 'traits.tier': '2', 'properties.a.b': 'x' }),
    ).toEqual({
      type: 'identify',
      userId: 'u',
      traits: { plan: 'pro', tier: 2 },
      properties: { a: { b: 'x' } },
    });
    expect(rowToCall(plan, { event: 'Paid', user_id: '7', plan: 'pro' })).toEqual({
      type: 'track',
      event: 'Paid',
      userId: '7',
      properties: { plan: 'pro' },
    });
  });

  it('refuses headers that would write one key twice or touch a prototype', () => {
    expect(() => planColumns(['properties.a', 'properties.a.b'])).toThrow(/would both set properties\.a/);
    expect(() => planColumns(['plan', 'traits.plan'])).toThrow(/would both set traits\.plan/);
    expect(() => planColumns(['properties.__proto__.x'])).toThrow(/reserved/);
    expect(() => planColumns(['a', ''])).toThrow(/column 2 has no name/);
  });
});

describe('pathwise import errors', () => {
  it('a missing file is one line on stderr and a non-zero exit', async () => {
    const r = await importFile(join(dir, 'nope.jsonl'));
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `pathwise: Cannot read import file: ${join(dir, 'nope.jsonl')}: no such file [PW_ERR_IMPORT_FILE]\n`,
    );
  });

  it('an unknown extension or --format is refused', async () => {
    const txt = write('events.txt', '{}\n');
    const byExt = await importFile(txt);
    expect(byExt.code).not.toBe(0);
    expect(byExt.stderr).toMatch(
      /^pathwise: Unknown import format "\.txt" .*--format.* \[PW_ERR_IMPORT_FORMAT\]\n$/,
    );
    const byFlag = await importFile(txt, '--format', 'xml');
    expect(byFlag.code).not.toBe(0);
    expect(byFlag.stderr).toBe(
      'pathwise: Unknown import format "xml" (use jsonl or csv) [PW_ERR_IMPORT_FORMAT]\n',
    );
    // --format overrides the extension.
    const forced = await importFile(
      write('calls.txt', '{"type":"track","userId":"u","event":"E"}\n'),
      '--format',
      'jsonl',
    );
    expect(forced.stdout).toMatch(/: 1 accepted, /);
  });

  it('an invalid config is refused before anything is imported', async () => {
    writeFileSync(config, 'workspace: [\n');
    const r = await importFile(join(FIXTURES, 'events.jsonl'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^pathwise: Invalid configuration: .*\[PW_ERR_CONFIG_INVALID\]\n$/);
    expect(r.stdout).toBe('');
  });
});

describe('pathwise import as a child process', () => {
  const spawnCli = (args: string[]): Promise<Run> =>
    new Promise((done, fail) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'bin/pathwise-dev.js', ...args], {
        cwd: ROOT,
        env: { ...process.env, NO_COLOR: '1' },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      child.on('error', fail);
      child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
    });

  it('prints only the summary when stderr is not a terminal, and exits 0', async () => {
    const r = await spawnCli(['import', join(FIXTURES, 'customers.csv'), '--config', config, '--db', db]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^imported 7 events from .*customers\.csv in .*: 5 accepted, 0 duplicates, 2 rejected\n {2}line 5: .*\n {2}line 10: .*\n$/,
    );
    await withStore(async (rt) => expect(await rt.store.read.countEvents()).toBe(5));
  });

  it('exits non-zero with one line for a missing file', async () => {
    const r = await spawnCli(['import', join(dir, 'missing.csv'), '--config', config, '--db', db]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^pathwise: Cannot read import file: .*missing\.csv: no such file \[PW_ERR_IMPORT_FILE\]\n$/,
    );
  });
});
