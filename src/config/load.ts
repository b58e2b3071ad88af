import { readFileSync, existsSync } from 'node:fs';
import { LineCounter, parseDocument, isNode } from 'yaml';
import type { z } from 'zod';
import { configSchema, type PathwiseConfig } from './schema.js';
import { checkConfig } from './check.js';
import { PathwiseError } from '../errors.js';
import { formatPath } from './path.js';

export { formatPath };

/** One problem in a config file: the path inside it (`segments[2].where`), the line when known, and why. */
export interface ConfigIssue {
  path: string;
  line?: number;
  message: string;
}

export type ConfigResult = { ok: true; config: PathwiseConfig } | { ok: false; issues: ConfigIssue[] };

export const formatIssue = (i: ConfigIssue): string =>
  `${i.path === '' ? '(root)' : i.path}${i.line === undefined ? '' : ` (line ${i.line})`}: ${i.message}`;

/** Parses and validates config text. Every problem is reported, not only the first. */
export const parseConfig = (text: string): ConfigResult => {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => ({
        path: '',
        line: e.linePos?.[0].line,
        // The yaml library repeats the position in its message; keep the column, drop the rest.
        message: (e.message.split('\n')[0] ?? e.message).replace(
          / at line \d+, column (\d+):?$/,
          ' (column $1)',
        ),
      })),
    };
  }
  const raw: unknown = doc.toJS() ?? {};
  const lineOf = (path: ReadonlyArray<PropertyKey>): number | undefined => {
    // Walk up until a node exists: a missing key is reported at its parent's line.
    for (let n = path.length; n >= 0; n--) {
      const node: unknown = doc.getIn(path.slice(0, n) as unknown[], true);
      if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
    }
    return undefined;
  };
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  const semantic = checkConfig(raw).map(({ path, pathParts, message }) => ({
    path,
    line: lineOf(pathParts),
    message,
  }));
  const schemaIssues = parsed.success ? [] : parsed.error.issues.map((i) => toIssue(i, lineOf));
  const issues = [...schemaIssues, ...semantic].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  if (!parsed.success || issues.length > 0) return { ok: false, issues };
  return { ok: true, config: parsed.data };
};

const toIssue = (
  i: z.core.$ZodIssue,
  lineOf: (p: ReadonlyArray<PropertyKey>) => number | undefined,
): ConfigIssue => {
  const path = i.path as PropertyKey[];
  if (i.code === 'invalid_type' && i.input === undefined) {
    return { path: formatPath(path), line: lineOf(path), message: `required (${i.expected})` };
  }
  if (i.code === 'unrecognized_keys') {
    // Point at the first unknown key itself, not at the object holding it.
    const at = [...path, i.keys[0] ?? ''];
    return {
      path: formatPath(path),
      line: lineOf(at),
      message: `unknown key(s) ${i.keys.map((k) => `"${k}"`).join(', ')}`,
    };
  }
  return { path: formatPath(path), line: lineOf(path), message: i.message };
};

/** Reads a config file; throws a PathwiseError listing every issue. */
export const loadConfigFile = (file: string): PathwiseConfig => {
  if (!existsSync(file)) throw new PathwiseError('PW_ERR_CONFIG_NOT_FOUND', file);
  const result = parseConfig(readFileSync(file, 'utf8'));
  if (!result.ok) {
    throw new PathwiseError('PW_ERR_CONFIG_INVALID', `${file}: ${result.issues.map(formatIssue).join('; ')}`);
  }
  return result.config;
};
