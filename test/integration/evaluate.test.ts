import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import type { Decision } from '../../src/domain/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';

/**
 * `pathwise evaluate` end to end, in-process through main(): against the Open Bandit Dataset sample in
 * ../shared/data/obd (real logged bandit feedback, see its README), on small files with bad rows, and on a
 * Pathwise database's own decision log.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const OBD = resolve(ROOT, '../shared/data/obd');
const ITEMS = { men: 34, women: 46 } as const;
type Campaign = keyof typeof ITEMS;
const csvOf = (policy: 'random' | 'bts', campaign: Campaign) =>
  join(OBD, policy, campaign, `${campaign}.csv`);
const OBD_COLUMNS = ['--action', 'item_id', '--reward', 'click', '--propensity', 'propensity_score'];
const USER_FEATURES = 'user_feature_0,user_feature_1,user_feature_2,user_feature_3';

const run = (args: string[]) => runCli(['evaluate', ...args]);

interface JsonEstimate {
  value: number | null;
  ci_low: number | null;
  ci_high: number | null;
  n: number;
}
type Three = Record<'ips' | 'snips' | 'dr', JsonEstimate>;
interface Report {
  rows: number;
  train_rows?: number;
  logging: JsonEstimate;
  actions: Record<string, JsonEstimate>;
  learned?: Partial<Three> & { replay?: JsonEstimate };
  uniform?: Three & { actions: number };
  action_estimates: Record<string, Three>;
  action_counts: Record<string, number>;
}

const evaluateJson = async (args: string[]): Promise<Report> => {
  const r = await run([...args, '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Report;
};

/** The OBD files by hand: rows, clicks and Σ (1/K)/p · click, Σ (1/K)/p (they hold no quoted cells). */
const byHand = (file: string, items: number) => {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const header = (lines[0] as string).split(',');
  const click = header.indexOf('click');
  const p = header.indexOf('propensity_score');
  let clicks = 0;
  let weighted = 0;
  let weights = 0;
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    const w = 1 / items / Number(cells[p]);
    clicks += Number(cells[click]);
    weighted += w * Number(cells[click]);
    weights += w;
  }
  const rows = lines.length - 1;
  return { rows, clicks, ips: weighted / rows, snips: weighted / weights };
};

const wellFormed = (e: JsonEstimate): void => {
  expect(Number.isFinite(e.value)).toBe(true);
  expect(e.ci_low as number).toBeLessThanOrEqual(e.value as number);
  expect(e.ci_high as number).toBeGreaterThanOrEqual(e.value as number);
  expect(e.ci_high as number).toBeGreaterThan(e.ci_low as number);
};

const width = (e: JsonEstimate): number => (e.ci_high as number) - (e.ci_low as number);

describe('pathwise evaluate on the Open Bandit Dataset sample', () => {
  it.each(['men', 'women'] as const)(
    'random/%s: the logging policy and the uniform policy on their own log are its click rate, exactly',
    async (campaign) => {
      const r = await evaluateJson([
        '--data',
        csvOf('random', campaign),
        ...OBD_COLUMNS,
        '--policy',
        'uniform',
      ]);
      expect(r.rows).toBe(10_000);
      expect(r.logging.value).toBe(0.0046);
      expect(r.logging.n).toBe(10_000);
      wellFormed(r.logging);
      // The uniform policy over the observed items is the logging policy: every weight is (1/K) / (1/K) = 1.
      expect(r.uniform?.actions).toBe(ITEMS[campaign]);
      expect(r.uniform?.ips.value).toBe(0.0046);
      expect(r.uniform?.snips.value).toBe(0.0046);
      expect(r.uniform?.dr.value).toBeCloseTo(0.0046, 3);
      expect(Object.keys(r.actions)).toHaveLength(ITEMS[campaign]);
      expect(Object.values(r.action_counts).reduce((s, n) => s + n, 0)).toBe(10_000);
    },
  );

  it.each(['men', 'women'] as const)(
    'bts/%s: the uniform policy estimated off-policy, with intervals, beside the random log’s click rate',
    async (campaign) => {
      const file = csvOf('bts', campaign);
      const r = await evaluateJson([
        '--data',
        file,
        ...OBD_COLUMNS,
        '--policy',
        'uniform',
        '--actions',
        String(ITEMS[campaign]),
      ]);
      const hand = byHand(file, ITEMS[campaign]);
      expect(r.logging.value).toBe(hand.clicks / hand.rows);
      const u = r.uniform as Three;
      expect(u.ips.value).toBeCloseTo(hand.ips, 12);
      expect(u.snips.value).toBeCloseTo(hand.snips, 12);
      for (const k of ['ips', 'snips', 'dr'] as const) {
        wellFormed(u[k]);
        expect(u[k].n).toBe(10_000);
      }
      // The random log's click rate, the on-policy truth for the uniform policy (0.46% in both samples).
      const random = await evaluateJson(['--data', csvOf('random', campaign), ...OBD_COLUMNS]);
      const truth = random.logging.value as number;
      const covers = (e: JsonEstimate) => (e.ci_low as number) <= truth && truth <= (e.ci_high as number);
      // What the sample shows (docs/evaluation.md): bts/men's estimates sit below 0.46% (IPS's interval just
      // misses it, SNIPS's and DR's just reach it); bts/women has propensities down to 1e-6, weights up to
      // 21,739, and intervals wide enough to cover it, SNIPS's the narrowest.
      if (campaign === 'men') {
        expect(covers(u.ips)).toBe(false);
        expect(covers(u.snips)).toBe(true);
        expect(covers(u.dr)).toBe(true);
      } else {
        for (const k of ['ips', 'snips', 'dr'] as const) expect(covers(u[k]), k).toBe(true);
        expect(width(u.snips)).toBeLessThan(width(u.ips) / 1.5);
        expect(width(u.snips)).toBeLessThan(width(u.dr));
      }
    },
  );

  it('--learn replay: Thompson sampling through the random log, matched rows only, reproducible by seed', async () => {
    const args = [
      '--data',
      csvOf('random', 'men'),
      ...OBD_COLUMNS,
      '--context',
      USER_FEATURES,
      '--learn',
      'replay',
      '--seed',
      '7',
    ];
    const a = await evaluateJson(args);
    const b = await evaluateJson(args);
    expect(a.learned).toEqual(b.learned);
    const replay = a.learned?.replay as JsonEstimate;
    // About one row in 34 matches a uniform log.
    expect(replay.n).toBeGreaterThan(150);
    expect(replay.n).toBeLessThan(600);
    expect(replay.value as number).toBeGreaterThanOrEqual(0);
    expect(replay.ci_low as number).toBeLessThanOrEqual(replay.value as number);
  });

  it('--learn split: trains on the first half, evaluates the frozen greedy policy on the rest', async () => {
    const r = await evaluateJson([
      '--data',
      csvOf('random', 'men'),
      ...OBD_COLUMNS,
      '--context',
      USER_FEATURES,
      '--learn',
      'split',
      '--train-fraction',
      '0.5',
    ]);
    expect(r.train_rows).toBe(5000);
    for (const k of ['ips', 'snips', 'dr'] as const) {
      const e = r.learned?.[k] as JsonEstimate;
      expect(e.n).toBe(5000);
      expect(e.ci_low as number).toBeLessThanOrEqual(e.value as number);
      expect(e.ci_high as number).toBeGreaterThanOrEqual(e.value as number);
    }
  });

  it('prints a table without --json', async () => {
    const r = await run(['--data', csvOf('random', 'women'), ...OBD_COLUMNS, '--policy', 'uniform']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^evaluated 10000 rows from .*women\.csv/);
    expect(r.stdout).toMatch(
      /logging \(the log itself\)\s+on-policy\s+0\.0046\s+\[0\.003274, 0\.005926\]\s+10000/,
    );
    expect(r.stdout).toMatch(/uniform over 46 actions\s+snips\s+0\.0046/);
  });
});

describe('pathwise evaluate: bad input is one line naming the row and the column', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pathwise-evaluate-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string): string => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const COLUMNS = ['--action', 'a', '--reward', 'r', '--propensity', 'p'];

  const fails = async (args: string[], ...parts: Array<string | RegExp>): Promise<void> => {
    const r = await run(args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(/^pathwise: .* \[PW_ERR_EVALUATE_(DATA|OPTIONS)\]\n$/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    for (const p of parts) expect(r.stderr).toMatch(p);
  };

  it.each([
    [
      'a propensity above 1',
      'a,r,p\nx,1,0.5\ny,0,1.5\n',
      'line 3, column "p": 1.5 is not a probability in (0, 1]',
    ],
    ['a propensity of 0', 'a,r,p\nx,1,0\n', 'line 2, column "p": 0 is not a probability'],
    [
      'a propensity that is not a number',
      'a,r,p\nx,1,0.5\n\nx,1,half\n',
      'line 4, column "p": "half" is not a number',
    ],
    ['a reward that is not a number', 'a,r,p\nx,yes,0.5\n', 'line 2, column "r": "yes" is not a number'],
    ['an empty action', 'a,r,p\n,1,0.5\n', 'line 2, column "a": the action is empty'],
    ['a ragged row', 'a,r,p\nx,1,0.5\nx,1\n', 'line 3: the row has 2 cells, the header 3 columns'],
    [
      'a quoted cell over two lines before the bad row',
      'a,r,p,note\nx,1,0.5,"two\nlines"\nx,1,2,n\n',
      'line 4, column "p"',
    ],
    ['an unclosed quote', 'a,r,p\nx,1,0.5\n"x,1,0.5\n', /line \d/],
  ])('CSV with %s', async (_name, text, message) => {
    await fails(['--data', write('bad.csv', text), ...COLUMNS], message);
  });

  it('a column missing from the header is named with the columns there are', async () => {
    await fails(
      ['--data', write('cols.csv', 'a,reward,p\nx,1,0.5\n'), ...COLUMNS],
      'line 1 (header): no column "r" for --reward (the columns are "a", "reward", "p")',
    );
  });

  it.each([
    ['not JSON', '{"a": "x", "r": 1, "p": 0.5}\n{"a": "x", \n', 'line 2: not valid JSON'],
    [
      'a missing propensity',
      '{"a": "x", "r": 1, "p": 0.5}\n\n{"a": "x", "r": 1}\n',
      'line 3, column "p": missing',
    ],
    [
      'a propensity above 1',
      '{"a": "x", "r": 1, "p": 1.01}\n',
      'line 1, column "p": 1.01 is not a probability',
    ],
    [
      'a reward that is a string',
      '{"a": "x", "r": "1", "p": 0.5}\n',
      'line 1, column "r": "1" is not a number',
    ],
    ['an action that is an object', '{"a": {}, "r": 1, "p": 0.5}\n', 'line 1, column "a"'],
  ])('JSONL with %s', async (_name, text, message) => {
    await fails(['--data', write('bad.jsonl', text), ...COLUMNS], message);
  });

  it('--learn needs rewards in [0, 1]', async () => {
    const file = write('revenue.csv', 'a,r,p\nx,1,0.5\ny,12.5,0.5\n');
    const plain = await run(['--data', file, ...COLUMNS, '--json']);
    expect(plain.code).toBe(0);
    expect((JSON.parse(plain.stdout) as Report).logging.value).toBe(6.75);
    await fails(
      ['--data', file, ...COLUMNS, '--learn', 'replay'],
      'line 3, column "r": 12.5 is not a reward in [0, 1]',
    );
  });

  it('bad options', async () => {
    const file = write('ok.csv', 'a,r,p\nx,1,0.5\ny,0,0.5\n');
    await fails(['--data', file, '--action', 'a', '--reward', 'r', '--propensity', '2'], '--propensity 2');
    await fails(['--data', file, '--action', 'a', '--reward', 'r'], '--data needs --propensity');
    await fails([...COLUMNS], 'pass either --data FILE');
    await fails(['--data', join(dir, 'missing.csv'), ...COLUMNS], 'missing.csv: no such file');
    await fails(
      ['--data', file, ...COLUMNS, '--train-fraction', '0.3'],
      '--train-fraction goes with --learn split',
    );
    await fails(['--data', file, ...COLUMNS, '--policy', 'uniform', '--actions', '1'], '--actions 1');
    await fails(['--data', write('x.txt', 'a,r,p\n'), ...COLUMNS], 'pass --format csv');
  });

  it('a constant --propensity applies to every row', async () => {
    const file = write('const.csv', 'a,r\nx,1\ny,0\nx,0\ny,0\n');
    const r = await evaluateJson(['--data', file, '--action', 'a', '--reward', 'r', '--propensity', '0.5']);
    // Always x: IPS = (2·1 + 0 + 0 + 0) / 4.
    expect(r.action_estimates.x?.ips.value).toBe(0.5);
    expect(r.actions.x?.value).toBe(0.5);
  });
});

describe('pathwise evaluate --db: the engine’s own decision log', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pathwise-evaluate-db-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const decision = (
    i: number,
    actionId: string | null,
    propensity: number,
    mode: Decision['mode'],
  ): Decision => ({
    id: `d${i}`,
    profileId: `p${i % 7}`,
    at: 1_700_000_000_000 + i * 1000,
    signal: { kind: 'placement', placement: 'home', context: {} },
    actionId,
    channel: actionId === null ? null : 'web',
    sendAt: null,
    propensity,
    mode,
    holdout: mode === 'holdout',
    modelVersion: 0,
    features: { idx: [i % 5, 100 + (i % 3)], val: [1, 1] },
    explanation: {
      mode,
      candidates: [],
      chosen: actionId,
      propensity,
      modelVersion: 0,
      summary: 'test',
    },
    attributionEndsAt: 1_700_000_000_000 + i * 1000 + 60_000,
  });

  it('reads resolved decisions in reward-log order, policy decisions only', async () => {
    const db = join(dir, 'pathwise.db');
    const store = await openSqliteStore({ file: db, synchronous: 'normal' });
    await store.migrate();
    const rewards: number[] = [];
    await store.write(async (w) => {
      for (let i = 0; i < 40; i++) {
        const mode = i % 10 === 9 ? 'holdout' : i % 2 === 0 ? 'exploit' : 'explore';
        const actionId = i % 4 === 0 ? null : i % 4 === 1 ? 'banner-a' : 'banner-b';
        await w.saveDecision(decision(i, actionId, i % 2 === 0 ? 0.8 : 0.1, mode));
        const reward = i % 3 === 0 ? 1 : 0;
        await w.resolveDecision(`d${i}`, { reward, value: reward, at: 1_700_000_100_000 + i, kind: 'goal' });
        if (mode !== 'holdout') rewards.push(reward);
      }
      // Not resolved yet: not in the reward log.
      await w.saveDecision(decision(99, 'banner-a', 0.5, 'exploit'));
    });
    await store.close();

    const r = await evaluateJson(['--db', db, '--learn', 'replay']);
    expect(r.rows).toBe(rewards.length);
    expect(r.logging.value).toBe(rewards.reduce((s, x) => s + x, 0) / rewards.length);
    expect(Object.keys(r.actions).sort()).toEqual(['__nothing__', 'banner-a', 'banner-b']);
    expect(r.learned?.replay?.n).toBeGreaterThan(0);
  });

  it('refuses a database file that does not exist (instead of creating one)', async () => {
    const r = await run(['--db', join(dir, 'nope.db')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nope\.db: no such database file .*\[PW_ERR_EVALUATE_DATA\]/);
  });
});
