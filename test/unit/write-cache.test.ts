import { describe, expect, it } from 'vitest';
import { WriteCache } from '../../src/store/sqlite/write-cache.js';

describe('WriteCache', () => {
  it('stays bounded, keeps entries in use, and the newest value wins', () => {
    const cache = new WriteCache(10, 4);
    cache.setIdentity('userId:a', 'p1');
    for (let i = 0; i < 20; i++) {
      cache.setIdentity(`userId:x${i}`, `p${i}`);
      expect(cache.identity('userId:a')).toBe('p1'); // used all along: survives every rotation
    }
    expect(cache.identity('userId:x0')).toBeUndefined(); // unused and two generations old: gone
    expect(cache.identity('userId:x19')).toBe('p19');
    cache.setIdentity('userId:a', 'p2');
    expect(cache.identity('userId:a')).toBe('p2');
    cache.clear();
    expect(cache.identity('userId:a')).toBeUndefined();
  });
});
