import { describe, expect, it } from 'vitest';
import { expandEnv, signPayload, verifySignature } from '../../src/channels/index.js';
import { PathwiseError } from '../../src/errors.js';

const SECRET = 'whsec_0123456789abcdef';
const TS = 1_767_225_600;
const NOW = TS * 1000;
const BODY = '{"deliveryId":"d1","content":{"text":"héllo"}}';

describe('verifySignature', () => {
  const sig = signPayload(SECRET, TS, BODY);

  it('accepts the HMAC-SHA256 of "<timestamp>.<body>", as a string or bytes', () => {
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature(SECRET, String(TS), BODY, sig, 300, NOW)).toBe(true);
    expect(verifySignature(SECRET, TS, Buffer.from(BODY), sig, 300, NOW + 299_000)).toBe(true);
  });

  it.each([
    ['a changed body', SECRET, TS, BODY.replace('d1', 'd2'), sig, NOW],
    ['another secret', 'whsec_fedcba9876543210', TS, BODY, sig, NOW],
    ['another timestamp', SECRET, TS + 1, BODY, sig, NOW],
    ['a stale timestamp', SECRET, TS, BODY, sig, NOW + 301_000],
    ['a timestamp from the future', SECRET, TS, BODY, sig, NOW - 301_000],
    ['no prefix', SECRET, TS, BODY, sig.slice('sha256='.length), NOW],
    ['a truncated signature', SECRET, TS, BODY, sig.slice(0, -2), NOW],
    ['a non-numeric timestamp', SECRET, '17e8', BODY, sig, NOW],
    ['no signature', SECRET, TS, BODY, undefined, NOW],
    ['no timestamp', SECRET, undefined, BODY, sig, NOW],
  ] as const)('rejects %s without throwing', (_name, secret, ts, body, signature, now) => {
    expect(verifySignature(secret, ts, body, signature, 300, now)).toBe(false);
  });
});

describe('expandEnv', () => {
  it('replaces every ${NAME} and leaves other text alone', () => {
    expect(expandEnv('Bearer ${A}:${B_2} $C {x} ${', { A: 'one', B_2: 'two' })).toBe(
      'Bearer one:two $C {x} ${',
    );
  });

  it('throws PW_ERR_CONFIG_INVALID naming an unset or empty variable, never a value', () => {
    for (const env of [{}, { HOOK_SECRET: '' }]) {
      let error: unknown;
      try {
        expandEnv('${OTHER}${HOOK_SECRET}', { OTHER: 'visible-value', ...env }, 'channels.push.secret');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(PathwiseError);
      expect(error).toMatchObject({ code: 'PW_ERR_CONFIG_INVALID', field: 'channels.push.secret' });
      expect((error as Error).message).toContain('HOOK_SECRET');
      expect((error as Error).message).not.toContain('visible-value');
    }
  });
});
