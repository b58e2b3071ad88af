import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createWorld, parseScenario, ScenarioError } from '../../src/sim/index.js';
import { MINI } from '../helpers/sim-scenario.js';

const example = (name: string) =>
  readFileSync(new URL(`../../examples/sim/${name}/scenario.yaml`, import.meta.url), 'utf8');

describe('scenario files', () => {
  it('the shipped scenarios parse', () => {
    for (const name of ['shop', 'drift', 'two-channels']) {
      const s = parseScenario(example(name));
      expect(s.population.length).toBeGreaterThan(1);
      expect(Object.keys(s.actions).length).toBeGreaterThan(1);
    }
    expect(parseScenario(example('drift')).drift).toHaveLength(2);
  });

  it('fills defaults and converts durations to milliseconds', () => {
    const s = parseScenario(MINI);
    expect(s.timing.horizon).toBe(86_400_000);
    expect(s.responseWindow).toBe(4 * 3_600_000);
    expect(s.actions.mail?.discount).toBe(0);
    expect(s.goal).toEqual({ event: 'Order Completed', valueProperty: 'total' });
  });

  it('names every bad field: shapes first, then references between fields', () => {
    const issuesOf = (text: string): string => {
      try {
        parseScenario(text);
      } catch (e) {
        expect(e).toBeInstanceOf(ScenarioError);
        return (e as ScenarioError).issues.join('\n');
      }
      throw new Error('parsed');
    };
    const shapes = issuesOf(
      MINI.replace('baseRate: 0.1', 'baseRate: 1.5').replace(
        'response: { jitter: 0 }',
        "response: { jitter: 0 }\ntiming: { horizon: '3 days' }",
      ),
    );
    expect(shapes).toMatch(/population\[0\]\.baseRate: a probability from 0 to 1/);
    expect(shapes).toMatch(/timing\.horizon: "3 days" is not a duration/);
    const references = issuesOf(
      MINI.replace('staticJourney: [mail, text]', 'staticJourney: [mail, call]').replace(
        'persona: a,',
        'persona: zz,',
      ),
    );
    expect(references).toMatch(/staticJourney\[1\]: unknown action "call"/);
    expect(references).toMatch(/drift\[0\]\.persona: unknown persona "zz"/);
  });

  it('refuses YAML that does not parse, and a persona without an affinity for a channel in use', () => {
    expect(() => parseScenario('name: [')).toThrow(ScenarioError);
    expect(() =>
      parseScenario(MINI.replace('channels: { email: 0.1, sms: 0.9 }', 'channels: { email: 0.1 }')),
    ).toThrow(/population\[1\]\.channels: no affinity for sms \(used by action text\)/);
  });
});

describe('the world a seed makes', () => {
  it('the same seed gives the same customers; another seed other ones', () => {
    const s = parseScenario(MINI);
    const a = createWorld(s, { customers: 500 });
    const b = createWorld(s, { customers: 500 });
    const c = createWorld(s, { customers: 500, seed: 4 });
    const sig = (w: typeof a) => Array.from({ length: 500 }, (_, i) => w.customer(i).persona).join('');
    expect(sig(a)).toBe(sig(b));
    expect(sig(a)).not.toBe(sig(c));
    expect(a.customer(10)).toEqual(b.customer(10));
  });

  it('draws personas by share and arrivals at the scenario rate', () => {
    const w = createWorld(parseScenario(MINI), { customers: 4000 });
    const share =
      Array.from({ length: 4000 }, (_, i) => w.customer(i)).filter((c) => c.persona === 'a').length / 4000;
    expect(share).toBeGreaterThan(0.72);
    expect(share).toBeLessThan(0.78);
    expect(w.customer(200).arrivesAt - w.customer(0).arrivesAt).toBe(3_600_000); // 200 per hour
    expect(w.customer(0).traits).toEqual({ device: w.customer(0).persona === 'a' ? 'mobile' : 'desktop' });
  });

  it('drift changes the hidden preferences of its persona from its time on, and only theirs', () => {
    const w = createWorld(parseScenario(MINI), { customers: 1000 });
    const a = Array.from({ length: 1000 }, (_, i) => w.customer(i)).find((c) => c.persona === 'a')!;
    const b = Array.from({ length: 1000 }, (_, i) => w.customer(i)).find((c) => c.persona === 'b')!;
    const half = w.start + 0.5 * 1000 * (3_600_000 / 200);
    expect(w.hidden(a, half - 1).channels.email).toBe(0.5);
    expect(w.hidden(a, half).channels.email).toBe(0.05);
    expect(w.hidden(a, half).channels.sms).toBe(0.2);
    expect(w.hidden(b, half).channels.email).toBe(0.1);
  });
});
