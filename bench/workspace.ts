import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ROOT } from './servers.js';

export const WRITE_KEY = 'wk_bench_web_0001';
export const ADMIN_KEY = 'admin_bench_0001';
export const SOURCE = 'web';

export interface Workspace {
  dir: string;
  config: string;
  /** A fresh database path in the temp dir. */
  db(name: string): string;
  remove(): void;
}

const dirs = new Set<string>();

/**
 * A temp dir with a bench config: one source with a write key, an admin key, and the computed traits and
 * segments of examples/shop/pathwise.yaml (so every event also updates profiles and segment membership),
 * and the product's default storage settings unless `synchronous` is given.
 */
export const createWorkspace = (opts: { synchronous?: 'full' | 'normal' } = {}): Workspace => {
  const dir = mkdtempSync(join(tmpdir(), 'pathwise-bench-'));
  dirs.add(dir);
  const shop = parse(readFileSync(join(ROOT, 'examples/shop/pathwise.yaml'), 'utf8')) as Record<
    string,
    unknown
  >;
  const config = {
    workspace: 'bench',
    sources: [{ name: SOURCE, writeKey: WRITE_KEY }],
    admin: { key: ADMIN_KEY },
    computedTraits: shop.computedTraits ?? [],
    segments: shop.segments ?? [],
    ...(opts.synchronous === undefined ? {} : { storage: { synchronous: opts.synchronous } }),
  };
  const file = join(dir, 'pathwise.yaml');
  writeFileSync(file, stringify(config));
  return {
    dir,
    config: file,
    db: (name) => join(dir, `${name}.db`),
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    },
  };
};

/** For exit paths: removes every temp dir still present. */
export const removeAllWorkspaces = (): void => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
};
