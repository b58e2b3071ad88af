import { Environment } from '@marcbachmann/cel-js';
import { formatPath } from './path.js';

export interface SemanticIssue {
  path: string;
  pathParts: PropertyKey[];
  message: string;
}

/** The variables a segment expression may use (see profiles/core/segments.ts), declared for type checking. */
const segmentEnv = new Environment()
  .registerVariable('traits', 'map<string, dyn>')
  .registerVariable('computed', 'map<string, dyn>')
  .registerVariable('segments', 'list<string>')
  .registerVariable('now', 'google.protobuf.Timestamp');

const CEL_DURATION = /duration\(\s*"([^"]*)"\s*\)/g;
const CEL_DURATION_OK = /^-?(\d+(\.\d+)?(h|m|s|ms|us|ns))+$/;

/** Type-checks a segment expression; returns why it is unusable, or undefined when it is fine. */
export const checkSegmentExpression = (where: string): string | undefined => {
  let result: { valid: boolean; type?: string; error?: unknown };
  try {
    result = segmentEnv.check(where) as typeof result;
  } catch (err) {
    return `expression does not parse: ${celMessage(err)}`;
  }
  if (!result.valid) {
    const parseError = isRecord(result.error) && result.error.name === 'ParseError';
    return parseError
      ? `expression does not parse: ${celMessage(result.error)}`
      : `expression is not valid: ${celMessage(result.error)} (variables: traits, computed, segments, now)`;
  }
  if (result.type !== 'bool' && result.type !== 'dyn') {
    return `expression must be true or false, but it gives ${result.type}`;
  }
  for (const m of where.matchAll(CEL_DURATION)) {
    if (!CEL_DURATION_OK.test(m[1] ?? '')) {
      return `duration("${m[1]}") is not a CEL duration: use h, m, s (e.g. duration("720h") for 30 days)`;
    }
  }
  return undefined;
};

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Checks zod cannot express: uniqueness across lists, and that every expression parses and type-checks.
 * Works on the raw document, so these problems are reported together with the schema's own.
 */
export const checkConfig = (raw: unknown): SemanticIssue[] => {
  const issues: SemanticIssue[] = [];
  if (!isRecord(raw)) return issues;
  const add = (pathParts: PropertyKey[], message: string) =>
    issues.push({ path: formatPath(pathParts), pathParts, message });

  const unique = (section: string, key: string, what: string) => {
    const list = raw[section];
    if (!Array.isArray(list)) return;
    const seen = new Map<unknown, number>();
    list.forEach((item, i) => {
      if (!isRecord(item) || typeof item[key] !== 'string') return;
      const first = seen.get(item[key]);
      if (first === undefined) seen.set(item[key], i);
      else add([section, i, key], `duplicate ${what} "${String(item[key])}" (first at index ${first})`);
    });
  };
  unique('sources', 'name', 'source name');
  unique('sources', 'writeKey', 'write key');
  unique('computedTraits', 'name', 'computed trait');
  unique('segments', 'name', 'segment');

  if (Array.isArray(raw.sources)) {
    raw.sources.forEach((s, i) => {
      if (isRecord(s) && s.name === 'pathwise')
        add(['sources', i, 'name'], '"pathwise" is reserved for internal events');
    });
  }
  if (Array.isArray(raw.segments)) {
    raw.segments.forEach((segment, i) => {
      if (!isRecord(segment) || typeof segment.where !== 'string') return;
      const problem = checkSegmentExpression(segment.where);
      if (problem !== undefined) add(['segments', i, 'where'], problem);
    });
  }
  return issues;
};

/** cel-js errors carry a caret diagram over several lines; keep them readable on one line. */
export const celMessage = (err: unknown): string => {
  const text =
    err instanceof Error
      ? err.message
      : isRecord(err) && typeof err.message === 'string'
        ? err.message
        : String(err);
  const [head, ...rest] = text.split('\n').filter((l) => l.trim() !== '');
  const caret = rest.find((l) => l.includes('^'));
  const col = caret === undefined ? -1 : caret.indexOf('^') - (rest[0]?.indexOf('|') ?? -2) - 2;
  return col >= 0 ? `${head} at column ${col + 1}` : (head ?? text);
};
