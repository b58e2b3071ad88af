import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { configSchema, type PathwiseConfig } from '../../src/config/schema.js';
import { openRuntime, serverFor, type Runtime } from '../../src/runtime.js';
import type { Clock } from '../../src/domain/index.js';

export const WRITE_KEY = 'wk_test_web_key';
export const ADMIN_KEY = 'admin_test_key';

export const basic = (key = WRITE_KEY): string => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
export const bearer = (key = ADMIN_KEY): string => `Bearer ${key}`;

export const testConfig = (over: Record<string, unknown> = {}): PathwiseConfig =>
  configSchema.parse({
    sources: [{ name: 'web', writeKey: WRITE_KEY }],
    admin: { key: ADMIN_KEY },
    ...over,
  });

export interface Harness {
  dir: string;
  db: string;
  rt: Runtime;
  app: FastifyInstance;
  /** Closes and reopens on the same database file: a process restart. `between` runs while it is closed. */
  restart(between?: () => void): Promise<void>;
  close(): Promise<void>;
}

/** A real runtime (SQLite file in a temp dir) and the real fastify app, driven through app.inject(). */
export const startHarness = async (config: PathwiseConfig = testConfig(), clock?: Clock): Promise<Harness> =>
  startHarnessOn(join(mkdtempSync(join(tmpdir(), 'pathwise-test-')), 'test.db'), config, clock);

/** The same on an existing database file (e.g. to restart with another config). */
export const startHarnessOn = async (db: string, config: PathwiseConfig, clock?: Clock): Promise<Harness> => {
  const dir = dirname(db);
  const open = async () => {
    const rt = await openRuntime({
      config,
      db,
      env: {},
      logger: pino({ level: 'silent' }),
      ...(clock ? { clock } : {}),
    });
    const app = serverFor(rt);
    await app.ready();
    return { rt, app };
  };
  const h: Harness = {
    dir,
    db,
    ...(await open()),
    async restart(between) {
      await h.app.close();
      await h.rt.close();
      between?.();
      Object.assign(h, await open());
    },
    async close() {
      await h.app.close();
      await h.rt.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
};
