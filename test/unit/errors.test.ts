import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS, PathwiseError } from '../../src/errors.js';

describe('error catalogue', () => {
  it('docs/errors.md lists exactly the codes of src/errors.ts with the same status and retryability', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `(PW_ERR_[A-Z_]+)` \| (\d+) \| (yes|no) \|/gm)].map((m) => ({
      code: m[1],
      status: Number(m[2]),
      retryable: m[3] === 'yes',
    }));
    const expected = Object.entries(ERRORS).map(([code, e]) => ({
      code,
      status: e.status,
      retryable: e.retryable,
    }));
    expect(rows).toEqual(expected);
  });

  it('fills the message template and keeps the field', () => {
    const e = new PathwiseError('PW_ERR_PROFILE_NOT_FOUND', '"u1"', { field: 'id' });
    expect(e.message).toBe('No profile for identifier "u1"');
    expect(e.toJSON()).toEqual({ code: 'PW_ERR_PROFILE_NOT_FOUND', message: e.message, field: 'id' });
    expect(e.status).toBe(404);
  });
});
