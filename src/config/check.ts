import { parse } from '@marcbachmann/cel-js';
import type { PathwiseConfig } from './schema.js';
import { formatPath } from './path.js';

export interface SemanticIssue {
  path: string;
  pathParts: PropertyKey[];
  message: string;
}

/** Checks that zod cannot express: uniqueness across lists, and that every expression parses. */
export const checkConfig = (config: PathwiseConfig): SemanticIssue[] => {
  const issues: SemanticIssue[] = [];
  const add = (pathParts: PropertyKey[], message: string) =>
    issues.push({ path: formatPath(pathParts), pathParts, message });

  const unique = <T>(list: T[], key: (t: T) => string, at: (i: number) => PropertyKey[], what: string) => {
    const seen = new Map<string, number>();
    list.forEach((item, i) => {
      const k = key(item);
      const first = seen.get(k);
      if (first === undefined) seen.set(k, i);
      else add(at(i), `duplicate ${what} "${k}" (first at index ${first})`);
    });
  };
  unique(
    config.sources,
    (s) => s.name,
    (i) => ['sources', i, 'name'],
    'source name',
  );
  unique(
    config.sources,
    (s) => s.writeKey,
    (i) => ['sources', i, 'writeKey'],
    'write key',
  );
  unique(
    config.computedTraits,
    (c) => c.name,
    (i) => ['computedTraits', i, 'name'],
    'computed trait',
  );
  unique(
    config.segments,
    (s) => s.name,
    (i) => ['segments', i, 'name'],
    'segment',
  );

  config.segments.forEach((segment, i) => {
    try {
      parse(segment.where);
    } catch (err) {
      add(['segments', i, 'where'], `expression does not parse: ${celMessage(err)}`);
    }
  });
  return issues;
};

/** cel-js errors carry a caret diagram over several lines; keep them readable on one line. */
export const celMessage = (err: unknown): string => {
  const text = err instanceof Error ? err.message : String(err);
  const [head, ...rest] = text.split('\n').filter((l) => l.trim() !== '');
  const caret = rest.find((l) => l.includes('^'));
  const col = caret === undefined ? -1 : caret.indexOf('^') - (rest[0]?.indexOf('|') ?? -2) - 2;
  return col >= 0 ? `${head} at column ${col + 1}` : (head ?? text);
};
