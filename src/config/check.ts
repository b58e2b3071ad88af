import { Environment } from '@marcbachmann/cel-js';
import { formatPath } from './path.js';
import { checkDecisioning } from './check-decisioning.js';

export interface SemanticIssue {
  path: string;
  pathParts: PropertyKey[];
  message: string;
}

/** Records one problem at a path of the raw document. */
export type AddIssue = (pathParts: PropertyKey[], message: string) => void;

/** A variable an expression may use, with its CEL type. */
export interface CelVariable {
  readonly name: string;
  readonly type: string;
}

/** A CEL environment that declares exactly these variables. */
export const celEnvironment = (variables: readonly CelVariable[]): Environment =>
  variables.reduce((env, v) => env.registerVariable(v.name, v.type), new Environment());

/** The variables a segment expression may use (see profiles/core/segments.ts), declared for type checking. */
export const SEGMENT_VARIABLES: readonly CelVariable[] = [
  { name: 'traits', type: 'map<string, dyn>' },
  { name: 'computed', type: 'map<string, dyn>' },
  { name: 'segments', type: 'list<string>' },
  { name: 'now', type: 'google.protobuf.Timestamp' },
];
const segmentEnv = celEnvironment(SEGMENT_VARIABLES);

const CEL_DURATION = /duration\(\s*"([^"]*)"\s*\)/g;
const CEL_DURATION_OK = /^-?(\d+(\.\d+)?(h|m|s|ms|us|ns))+$/;

/**
 * Checks a CEL condition against an environment: it parses, uses only the declared variables, gives a
 * boolean (or `dyn`, decided at run time) and writes CEL durations correctly. Returns why it is unusable,
 * or undefined when it is fine.
 */
export const checkCondition = (
  env: Environment,
  variables: readonly CelVariable[],
  expr: string,
): string | undefined => {
  let result: { valid: boolean; type?: string; error?: unknown };
  try {
    result = env.check(expr) as typeof result;
  } catch (err) {
    return `expression does not parse: ${celMessage(err)}`;
  }
  if (!result.valid) {
    const parseError = isRecord(result.error) && result.error.name === 'ParseError';
    return parseError
      ? `expression does not parse: ${celMessage(result.error)}`
      : `expression is not valid: ${celMessage(result.error)} (variables: ${variables.map((v) => v.name).join(', ')})`;
  }
  if (result.type !== 'bool' && result.type !== 'dyn') {
    return `expression must be true or false, but it gives ${result.type}`;
  }
  for (const m of expr.matchAll(CEL_DURATION)) {
    if (!CEL_DURATION_OK.test(m[1] ?? '')) {
      return `duration("${m[1]}") is not a CEL duration: use h, m, s (e.g. duration("720h") for 30 days)`;
    }
  }
  return undefined;
};

/** Type-checks a segment expression; returns why it is unusable, or undefined when it is fine. */
export const checkSegmentExpression = (where: string): string | undefined =>
  checkCondition(segmentEnv, SEGMENT_VARIABLES, where);

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** Reports every entry of `list` whose string `key` repeats an earlier one, at `[...at, i, key]`. */
export const checkUnique = (list: unknown, at: PropertyKey[], key: string, what: string, add: AddIssue) => {
  if (!Array.isArray(list)) return;
  const seen = new Map<unknown, number>();
  list.forEach((item, i) => {
    if (!isRecord(item) || typeof item[key] !== 'string') return;
    const first = seen.get(item[key]);
    if (first === undefined) seen.set(item[key], i);
    else add([...at, i, key], `duplicate ${what} "${String(item[key])}" (first at index ${first})`);
  });
};

/**
 * Checks zod cannot express: uniqueness across lists, references between sections, and that every
 * expression parses and type-checks. Works on the raw document, so these problems are reported together
 * with the schema's own.
 */
export const checkConfig = (raw: unknown): SemanticIssue[] => {
  const issues: SemanticIssue[] = [];
  if (!isRecord(raw)) return issues;
  const add: AddIssue = (pathParts, message) =>
    issues.push({ path: formatPath(pathParts), pathParts, message });

  checkUnique(raw.sources, ['sources'], 'name', 'source name', add);
  checkUnique(raw.sources, ['sources'], 'writeKey', 'write key', add);
  checkUnique(raw.computedTraits, ['computedTraits'], 'name', 'computed trait', add);
  checkUnique(raw.segments, ['segments'], 'name', 'segment', add);

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
  checkDecisioning(raw, add);
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
