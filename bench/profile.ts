import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './servers.js';

/** Reads a V8 .cpuprofile (node --cpu-prof) and ranks functions by self time. */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  /** `src/…/file.ts:line` for our code (through the build's source maps), else the package or `node:` module. */
  where: string;
  ms: number;
  /** Share of the busy (non-idle) time. */
  share: number;
}

export interface ProfileSummary {
  file: string;
  busyMs: number;
  topSrc: SelfTime[];
  topAll: SelfTime[];
  /** Self time by origin: src, each npm package, node internals, GC, … */
  byOrigin: Array<{ origin: string; ms: number; share: number }>;
}

const maps = new Map<string, SourceMap | undefined>();
const sourceMapOf = (path: string): SourceMap | undefined => {
  if (!maps.has(path)) {
    const file = `${path}.map`;
    maps.set(
      path,
      existsSync(file)
        ? new SourceMap(JSON.parse(readFileSync(file, 'utf8')) as SourceMapPayload)
        : undefined,
    );
  }
  return maps.get(path);
};

/** Where a frame comes from, and a readable location. */
const locate = (f: CallFrame): { origin: string; where: string } => {
  const { url } = f;
  if (url === '') return { origin: f.functionName.startsWith('(') ? f.functionName : '(native)', where: '' };
  if (url.startsWith('node:')) return { origin: 'node internals', where: url };
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + 14).split('/');
    const pkg = rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? '?');
    return {
      origin: pkg,
      where: `${pkg}/${rest.slice(pkg.includes('/') ? 2 : 1).join('/')}:${f.lineNumber + 1}`,
    };
  }
  const rel = relative(ROOT, path);
  if (rel.startsWith('dist/')) {
    const entry = sourceMapOf(path)?.findEntry(f.lineNumber, f.columnNumber);
    if (entry && 'originalSource' in entry && entry.originalSource) {
      const src = relative(
        ROOT,
        entry.originalSource.startsWith('file://')
          ? fileURLToPath(entry.originalSource)
          : join(path, '..', entry.originalSource),
      );
      return { origin: 'src', where: `${src}:${entry.originalLine + 1}` };
    }
    return {
      origin: 'src',
      where: `${rel.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts')} (js line ${f.lineNumber + 1})`,
    };
  }
  return {
    origin: rel.startsWith('..') ? 'other' : (rel.split('/')[0] ?? 'other'),
    where: `${rel}:${f.lineNumber + 1}`,
  };
};

export const summariseProfile = (file: string, top = 10): ProfileSummary => {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  const fns = new Map<string, { name: string; where: string; origin: string; us: number }>();
  const origins = new Map<string, number>();
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame || frame.functionName === '(idle)') continue;
    busyUs += us;
    const { origin, where } = locate(frame);
    origins.set(origin, (origins.get(origin) ?? 0) + us);
    const name = frame.functionName || '(anonymous)';
    const key = `${name}@${where}`;
    const fn = fns.get(key) ?? { name, where, origin, us: 0 };
    fn.us += us;
    fns.set(key, fn);
  }
  const rank = (xs: Array<{ name: string; where: string; us: number }>): SelfTime[] =>
    xs
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((x) => ({ name: x.name, where: x.where, ms: x.us / 1000, share: x.us / busyUs }));
  const all = [...fns.values()];
  return {
    file,
    busyMs: busyUs / 1000,
    topSrc: rank(all.filter((f) => f.origin === 'src')),
    topAll: rank(all),
    byOrigin: [...origins]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([origin, us]) => ({ origin, ms: us / 1000, share: us / busyUs })),
  };
};

/** The newest .cpuprofile in `dir`, if any. */
export const newestProfile = (dir: string): string | undefined => {
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort();
  const last = files[files.length - 1];
  return last === undefined ? undefined : join(dir, last);
};

export const formatProfile = (p: ProfileSummary): string => {
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)}%`;
  const lines = [`CPU profile of the Pathwise server during the batch run: ${relative(ROOT, p.file)}`];
  lines.push(`  busy (non-idle) CPU: ${(p.busyMs / 1000).toFixed(1)} s; self time by origin:`);
  for (const o of p.byOrigin) lines.push(`    ${pct(o.share)}  ${o.origin}`);
  lines.push('  top self-time functions in src/:');
  for (const f of p.topSrc) lines.push(`    ${pct(f.share)}  ${f.name}  ${f.where}`);
  lines.push('  top self-time functions overall:');
  for (const f of p.topAll) lines.push(`    ${pct(f.share)}  ${f.name}  ${f.where}`);
  return lines.join('\n');
};
