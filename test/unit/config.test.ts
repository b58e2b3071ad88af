import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig, formatIssue, parseDuration } from '../../src/config/index.js';

describe('config', () => {
  it('the example workspace is valid', () => {
    const r = parseConfig(
      readFileSync(new URL('../../examples/shop/pathwise.yaml', import.meta.url), 'utf8'),
    );
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.config.sources.map((s) => s.name)).toEqual(['web', 'backend']);
      expect(r.config.computedTraits.find((c) => c.name === 'orders_30d')).toMatchObject({
        window: 30 * 86_400_000,
      });
    }
  });

  it('reports every problem with its path and line', () => {
    const text = [
      'workspace: t', // 1
      'sources:', // 2
      '  - name: web', // 3
      '    writeKey: short', // 4
      '  - name: web', // 5
      '    writeKey: long-enough-key', // 6
      'computedTraits:', // 7
      '  - name: n', // 8
      '    kind: count', // 9
      '    event: X', // 10
      '    window: forever', // 11
      'segments:', // 12
      '  - name: s', // 13
      '    where: "traits.a >"', // 14
      'colour: blue', // 15
    ].join('\n');
    const r = parseConfig(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const lines = r.issues.map(formatIssue);
    expect(lines).toContain('sources[0].writeKey (line 4): write keys must be at least 8 characters');
    expect(lines).toContain(
      'computedTraits[0].window (line 11): "forever" is not a duration: write e.g. 30m, 24h, 7d',
    );
    expect(lines).toContain('(root) (line 15): unknown key(s) "colour"');
    // The expression error is reported in the same pass as the schema errors.
    expect(
      lines.find((l) => l.startsWith('segments[0].where (line 14): expression does not parse')),
    ).toBeDefined();
    expect(lines).toContain(`sources[1].name (line 5): duplicate source name "web" (first at index 0)`);
    expect(lines).toHaveLength(5);
  });

  it('semantic checks: duplicates and expressions that do not parse, with the column', () => {
    const r = parseConfig(
      [
        'sources:',
        '  - {name: a, writeKey: aaaaaaaa}',
        '  - {name: a, writeKey: bbbbbbbb}',
        'segments:',
        '  - {name: s, where: "traits.a >"}',
      ].join('\n'),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const lines = r.issues.map(formatIssue);
    expect(lines).toContain('sources[1].name (line 3): duplicate source name "a" (first at index 0)');
    expect(lines.find((l) => l.startsWith('segments[0].where (line 5): expression does not parse'))).toMatch(
      /column \d+/,
    );
  });

  it('type-checks segment expressions: unknown variables, non-boolean results, CEL durations', () => {
    const r = parseConfig(
      [
        'segments:',
        '  - {name: a, where: "trait.plan == 1"}',
        '  - {name: b, where: "computed.x + 1"}',
        '  - {name: c, where: \'now - duration("30d") > computed.t\'}',
        '  - {name: d, where: \'"vip" in segments && now - duration("720h") > computed.t\'}',
        'sources:',
        '  - {name: pathwise, writeKey: aaaaaaaaaa}',
      ].join('\n'),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map(formatIssue)).toEqual([
      'segments[0].where (line 2): expression is not valid: Unknown variable: trait at column 1 (variables: traits, computed, segments, now)',
      'segments[1].where (line 3): expression must be true or false, but it gives int',
      'segments[2].where (line 4): duration("30d") is not a CEL duration: use h, m, s (e.g. duration("720h") for 30 days)',
      'sources[0].name (line 7): "pathwise" is reserved for internal events',
    ]);
  });

  it('a missing required key says so', () => {
    const r = parseConfig('sources:\n  - name: web\n');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map(formatIssue)).toEqual(['sources[0].writeKey (line 2): required (string)']);
  });

  it('YAML syntax errors carry the line', () => {
    const r = parseConfig('sources:\n  - name: a\n   writeKey: [unclosed\n');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]?.line).toBeGreaterThan(0);
  });

  it('parses durations', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('2w')).toBe(14 * 86_400_000);
    expect(parseDuration('soon')).toBeUndefined();
  });
});

describe('environment', () => {
  it('PATHWISE_WRITE_KEYS names sources; bad names and log levels are clear errors', async () => {
    const { collectKeys, logLevel } = await import('../../src/runtime.js');
    const { configSchema } = await import('../../src/config/schema.js');
    const config = configSchema.parse({ sources: [{ name: 'web', writeKey: 'wk_web_12345' }] });
    const keys = collectKeys(config, { PATHWISE_WRITE_KEYS: 'mobile:k1, k2', PATHWISE_ADMIN_KEY: 'adm' });
    expect([...keys.writeKeys]).toEqual([
      ['wk_web_12345', 'web'],
      ['k1', 'mobile'],
      ['k2', 'env-2'],
    ]);
    expect(keys.adminKey).toBe('adm');
    expect(() => collectKeys(config, { PATHWISE_WRITE_KEYS: 'pathwise:k1' })).toThrow(/not be "pathwise"/);
    expect(logLevel({ PATHWISE_LOG_LEVEL: 'DEBUG' })).toBe('debug');
    expect(() => logLevel({ PATHWISE_LOG_LEVEL: 'loud' })).toThrow(/PATHWISE_LOG_LEVEL "loud" is not one of/);
  });
});
