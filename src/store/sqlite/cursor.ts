import { PathwiseError } from '../../errors.js';

/**
 * Opaque page cursors: base64url of a JSON array `[tag, ...position]`. The tag names the listing, so a cursor
 * from one listing handed to another is refused instead of silently paging from a wrong place.
 */
type Kind = 'string' | 'number';
type Decoded<S extends readonly Kind[]> = {
  -readonly [I in keyof S]: S[I] extends 'number' ? number : string;
};

export const encodeCursor = (tag: string, position: ReadonlyArray<string | number>): string =>
  Buffer.from(JSON.stringify([tag, ...position]), 'utf8').toString('base64url');

const invalid = (): PathwiseError =>
  new PathwiseError(
    'PW_ERR_QUERY_INVALID',
    'cursor is not one this listing returned: pass `next` back unchanged',
    {
      field: 'cursor',
    },
  );

export const decodeCursor = <const S extends readonly Kind[]>(
  cursor: string,
  tag: string,
  shape: S,
): Decoded<S> => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== shape.length + 1 || parsed[0] !== tag) throw invalid();
  const position = parsed.slice(1) as unknown[];
  position.forEach((v, i) => {
    const ok = shape[i] === 'number' ? Number.isSafeInteger(v) : typeof v === 'string';
    if (!ok) throw invalid();
  });
  return position as Decoded<S>;
};

/** A page size must be a positive integer; anything else is a caller bug worth a clear message. */
export const checkLimit = (limit: number): number => {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new PathwiseError(
      'PW_ERR_QUERY_INVALID',
      `limit must be a positive integer, got ${String(limit)}`,
      {
        field: 'limit',
      },
    );
  }
  return limit;
};
