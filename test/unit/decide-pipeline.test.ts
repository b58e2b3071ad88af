import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import {
  boundExploration,
  compileCatalog,
  decide,
  inHoldout,
  quietHoursEnd,
  sampleIndex,
  scoreOption,
  thompsonDistribution,
  type ContactHistory,
  type Scorer,
} from '../../src/decide/index.js';
import { BanditModel, beta, normal, seededRng, type ArmPosterior, type Rng } from '../../src/learn/index.js';
import type { Signal } from '../../src/domain/index.js';

const BASE = `
goal: { event: Order Completed, value: 50 }
placements: [{ id: home }]
segments:
  - { name: vip, where: "has(traits.vip) && traits.vip == true" }
policy:
  consent:
    require: [{ channel: email, purpose: marketing }]
  frequencyCaps:
    - { channel: email, max: 1, window: 1d }
    - { channel: all, max: 2, window: 7d }
  quietHours: { start: "21:00", end: "08:00", defaultTimezone: Europe/Berlin }
  conversionCooldown: 3d
  doNotRepeat: 7d
  fatigue: { maxUnanswered: 3, window: 30d }
holdout: { share: 0 }
actions:
  - { id: mail, channel: email, status: approved, trigger: { events: [Visit] } }
  - { id: text, channel: sms, status: approved, cost: 0.1, trigger: { events: [Visit] }, budget: { perDay: 2 } }
  - { id: draft_one, channel: push, status: draft, trigger: { events: [Visit] } }
  - { id: vips, channel: push, status: approved, trigger: { events: [Visit] }, audience: { include: [vip] } }
  - { id: rich, channel: push, status: approved, trigger: { events: [Visit] }, eligible: "traits.spend > 100" }
  - { id: banner, channel: web, status: approved, trigger: { placements: [home] } }
`;

const catalogOf = (extra = '') => {
  const r = parseConfig(BASE + extra);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return compileCatalog(r.config);
};

// Noon in Berlin (11:00 UTC) on a winter day.
const NOON = Date.parse('2026-01-15T11:00:00Z');
const visit: Signal = { kind: 'event', event: 'Visit', messageId: 'm1', properties: {} };
const noHistory: ContactHistory = { sends: [], sentToday: new Map() };
const consent = { consent: { marketing: true } };
/** Every test customer can be reached on every channel unless a test says otherwise. */
const reach = { email: 'ada@example.com', phone: '+44 20 7946 0000', push_token: 'tok-1' };

const run = (
  opts: {
    traits?: Record<string, unknown>;
    segments?: string[];
    history?: ContactHistory;
    now?: number;
    catalog?: ReturnType<typeof catalogOf>;
    signal?: Signal;
    model?: Scorer;
    id?: string;
  } = {},
) =>
  decide(
    {
      id: 'd1',
      profile: {
        id: opts.id ?? 'p1',
        traits: { ...reach, ...(opts.traits ?? consent) } as never,
        segments: opts.segments ?? [],
      },
      computed: {},
      signal: opts.signal ?? visit,
      features: { idx: [1], val: [1] },
      history: opts.history ?? noHistory,
    },
    {
      catalog: opts.catalog ?? catalogOf(),
      model: opts.model ?? new BanditModel({ featureBits: 12, priorVariance: 1, minObservations: 10 }),
      rng: seededRng(7),
      now: opts.now ?? NOON,
      attributionWindow: 86_400_000,
    },
  );

const removedBy = (d: ReturnType<typeof run>) =>
  Object.fromEntries(d.explanation.candidates.map((c) => [c.actionId, c.removed?.rule ?? 'kept']));

describe('decide pipeline', () => {
  it('takes candidates from the trigger and names the rule that removed each', () => {
    const d = run({ traits: { ...consent, spend: 50 } });
    expect(removedBy(d)).toEqual({
      mail: 'kept',
      text: 'kept',
      draft_one: 'actions[2].status',
      vips: 'actions[3].audience.include',
      rich: 'actions[4].eligible',
      // banner is triggered by placements only: not a candidate for an event.
    });
    expect(d.explanation.candidates.find((c) => c.actionId === 'rich')?.removed?.reason).toContain('false');
    expect(d.explanation.nothing).toBeDefined();
    const scored = d.explanation.candidates.filter((c) => c.score !== undefined);
    expect(scored.map((c) => c.actionId)).toEqual(['mail', 'text']);
    // The propensities of all options sum to one, and the logged propensity is the chosen option's.
    const total =
      (d.explanation.nothing?.probabilityChosen ?? 0) +
      scored.reduce((s, c) => s + (c.score?.probabilityChosen ?? 0), 0);
    expect(total).toBeCloseTo(1, 9);
    const chosenP =
      d.actionId === null
        ? d.explanation.nothing?.probabilityChosen
        : scored.find((c) => c.actionId === d.actionId)?.score?.probabilityChosen;
    expect(d.propensity).toBe(chosenP);
    expect(d.explanation.summary.length).toBeGreaterThan(10);
  });

  it('a placement request considers only the actions for that placement', () => {
    const d = run({ signal: { kind: 'placement', placement: 'home', context: {} } });
    expect(d.explanation.candidates.map((c) => c.actionId)).toEqual(['banner']);
  });

  it('a channel needs the customer’s address on it', () => {
    const d = run({ traits: { ...consent, email: '', push_token: null } });
    expect(removedBy(d).mail).toBe('channels.email');
    expect(d.explanation.candidates[0]?.removed?.reason).toBe(
      'the customer has no email address (traits.email)',
    );
    expect(removedBy(d).text).toBe('kept');
  });

  it('a re-decision reconsiders the original signal’s message actions, minus those tried', () => {
    const origin = { kind: 'event' as const, event: 'Visit', messageId: 'm1', properties: {} };
    const d = run({ signal: { kind: 'redecide', after: 'd0', exclude: ['mail'], origin } });
    expect(d.explanation.candidates.map((c) => c.actionId)).toEqual(['text', 'draft_one', 'vips', 'rich']);
  });

  it('consent: no marketing email without it', () => {
    const d = run({ traits: {} });
    expect(removedBy(d).mail).toBe('policy.consent.require[0]');
    expect(removedBy(d).text).toBe('kept'); // only email requires consent here
    const perChannel = run({ traits: { consent: { marketing: { email: true } } } });
    expect(removedBy(perChannel).mail).toBe('kept');
  });

  it('frequency caps per channel and across channels, do-not-repeat and fatigue', () => {
    const h = (sends: ContactHistory['sends']): ContactHistory => ({ sends, sentToday: new Map() });
    const hour = 3_600_000;
    const oneEmail = run({
      history: h([{ actionId: 'other', channel: 'email', at: NOON - hour, responded: true }]),
    });
    expect(removedBy(oneEmail).mail).toBe('policy.frequencyCaps[0]');
    expect(removedBy(oneEmail).text).toBe('kept');
    const two = run({
      history: h([
        { actionId: 'x', channel: 'push', at: NOON - 2 * 86_400_000, responded: true },
        { actionId: 'y', channel: 'push', at: NOON - 3 * 86_400_000, responded: true },
      ]),
    });
    expect(removedBy(two).text).toBe('policy.frequencyCaps[1]');
    const repeat = run({
      history: h([{ actionId: 'text', channel: 'sms', at: NOON - 8 * 86_400_000, responded: false }]),
    });
    expect(removedBy(repeat).text).toBe('kept'); // 8 days ago: outside do-not-repeat (7d)
    const recent = run({
      history: h([{ actionId: 'text', channel: 'sms', at: NOON - 2 * 86_400_000, responded: false }]),
    });
    expect(removedBy(recent).text).toBe('policy.doNotRepeat');
    const tired = run({
      history: h(
        [10, 11, 12].map((d) => ({
          actionId: `a${d}`,
          channel: 'push' as const,
          at: NOON - d * 86_400_000,
          responded: false,
        })),
      ),
    });
    expect(removedBy(tired).mail).toBe('policy.fatigue');
  });

  it('one message in flight per customer: nothing else is sent while one awaits its response', () => {
    const h = (responded: boolean, hoursAgo: number): ContactHistory => ({
      sends: [{ actionId: 'mail', channel: 'email', at: NOON - hoursAgo * 3_600_000, responded }],
      sentToday: new Map(),
    });
    // The email's response window is 24h (the default): 2 hours ago and unanswered, it is still in flight.
    const waiting = run({ history: h(false, 2) });
    expect(removedBy(waiting).text).toBe('policy.oneMessageInFlight');
    expect(waiting.explanation.candidates.find((c) => c.actionId === 'text')?.removed?.reason).toContain(
      'mail (email) is still waiting',
    );
    expect(removedBy(run({ history: h(true, 2) })).text).toBe('kept');
    expect(removedBy(run({ history: h(false, 25) })).text).toBe('kept');
    // Web content is not a message: it never waits.
    const web = run({ history: h(false, 2), signal: { kind: 'placement', placement: 'home', context: {} } });
    expect(removedBy(web).banner).toBe('kept');
  });

  it('cool-down after a conversion, daily budget, and the kill switch', () => {
    const cool = run({ history: { sends: [], lastGoalAt: NOON - 86_400_000, sentToday: new Map() } });
    expect(removedBy(cool).mail).toBe('policy.conversionCooldown');
    const spent = run({ history: { sends: [], sentToday: new Map([['text', 2]]) } });
    expect(removedBy(spent).text).toBe('actions[1].budget');
    const killed = run({ catalog: compileKill() });
    expect(killed.actionId).toBeNull();
    expect(killed.mode).toBe('kill-switch');
    expect(removedBy(killed).mail).toBe('policy.killSwitch');
    expect(killed.explanation.summary).toContain('kill switch');
  });

  it('quiet hours in the customer time zone defer the send to their end', () => {
    // 22:30 in Berlin (21:30 UTC): quiet until 08:00 Berlin = 07:00 UTC next day.
    const late = Date.parse('2026-01-15T21:30:00Z');
    expect(quietHoursEnd(late, 'Europe/Berlin', { start: 21 * 60, end: 8 * 60 })).toBe(
      Date.parse('2026-01-16T07:00:00Z'),
    );
    // The same instant is 16:30 in New York: not quiet.
    expect(quietHoursEnd(late, 'America/New_York', { start: 21 * 60, end: 8 * 60 })).toBeUndefined();
    const model = new BanditModel({ featureBits: 12, priorVariance: 1, minObservations: 10 });
    // Make email clearly best, and turn exploration off, so it is chosen whatever the random draws (with
    // exploration on it is chosen ~84% of the time).
    for (let i = 0; i < 50; i++) model.update('mail', { idx: [1], val: [1] }, 1);
    const catalog = { ...catalogOf(), exploration: { min: 0, max: 0 } };
    const d = run({ now: late, model, catalog, traits: { ...consent, timezone: 'Europe/Berlin' } });
    expect(d.actionId).toBe('mail');
    expect(d.sendAt).toBe(Date.parse('2026-01-16T07:00:00Z'));
    const ny = run({ now: late, model, catalog, traits: { ...consent, timezone: 'America/New_York' } });
    expect(ny.sendAt).toBe(late);
    // An invalid zone in the traits falls back to the default zone.
    const bad = run({ now: late, model, catalog, traits: { ...consent, timezone: 'Mars/Olympus' } });
    expect(bad.sendAt).toBe(Date.parse('2026-01-16T07:00:00Z'));
  });

  it('holdout customers get nothing, stably, in about the configured share', () => {
    const catalog = catalogOf().holdout;
    const holdout = { ...catalog, share: 0.2 };
    let n = 0;
    for (let i = 0; i < 20_000; i++) if (inHoldout(`profile-${i}`, holdout)) n++;
    expect(n / 20_000).toBeGreaterThan(0.18);
    expect(n / 20_000).toBeLessThan(0.22);
    expect(inHoldout('profile-42', holdout)).toBe(inHoldout('profile-42', holdout));
    const c = catalogOf();
    const inside = [...Array(100).keys()].map((i) => `p${i}`).find((id) => inHoldout(id, holdout)) as string;
    const d = run({ id: inside, catalog: { ...c, holdout } });
    expect(d.mode).toBe('holdout');
    expect(d.actionId).toBeNull();
    expect(d.propensity).toBe(1);
  });
});

describe('exploration bounds', () => {
  it('caps the share that departs from the greedy option and floors every option', () => {
    const dist = boundExploration([0.2, 0.5, 0.3], 0, { min: 0, max: 0.3 });
    expect(dist[0]).toBeCloseTo(0.7, 9);
    expect(dist[1]! + dist[2]!).toBeCloseTo(0.3, 9);
    expect(dist[1]! / dist[2]!).toBeCloseTo(5 / 3, 9); // proportions among explorations kept
    const floored = boundExploration([1, 0, 0], 0, { min: 0.3, max: 1 });
    expect(floored).toEqual([0.8, 0.1, 0.1].map((x) => expect.closeTo(x, 9)));
    const rng = seededRng(3);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[sampleIndex(floored, rng)]!++;
    expect(counts[1]! / 30_000).toBeCloseTo(0.1, 1);
  });
});

function compileKill() {
  const r = parseConfig(BASE.replace('policy:\n', 'policy:\n  killSwitch: true\n'));
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return compileCatalog(r.config);
}

describe('thompsonDistribution', () => {
  const option = (mean: number, variance: number) =>
    scoreOption(
      'x',
      { model: 'logistic', mean, variance, observations: 100 },
      { value: 1, weight: 1, cost: 0 },
    );

  it('estimates each option’s chance to win a posterior draw', () => {
    // Equal values: the option with the higher logit wins when N(0.2, 0.25) − N(0, 0.25) > 0, i.e. Φ(0.2/√0.5).
    const dist = thompsonDistribution([option(0, 0.25), option(0.2, 0.25)], 40_000, seededRng(5));
    const phi = 0.5 * (1 + erf(0.2 / Math.sqrt(0.5) / Math.SQRT2));
    expect(dist[1]).toBeCloseTo(phi, 2);
  });

  it('never samples an option that cannot plausibly win, but keeps close contenders', () => {
    const dist = thompsonDistribution(
      [option(2, 0.01), option(-3, 0.01), option(1.9, 0.01)],
      2000,
      seededRng(1),
    );
    expect(dist[1]).toBe(0);
    expect(dist[0]).toBeGreaterThan(0.5);
    expect(dist[2]).toBeGreaterThan(0.05);
  });
});

describe('thompsonDistribution skips only draws that cannot win', () => {
  type Lever = { value: number; weight: number; cost: number };
  const make = (rows: Array<[ArmPosterior, Lever]>) =>
    rows.map(([posterior, lever], i) => scoreOption(i === 0 ? null : `a${i}`, posterior, lever));
  const logit = (mean: number, variance: number): ArmPosterior => ({
    model: 'logistic',
    mean,
    variance,
    observations: 100,
  });
  const young = (alpha: number, b: number): ArmPosterior => ({
    model: 'beta',
    alpha,
    beta: b,
    observations: 3,
  });

  /** The plain estimator: every option drawn, in order, the first best kept (no pruning: use with contenders). */
  const plain = (options: ReturnType<typeof make>, samples: number, rng: Rng): number[] => {
    const wins = options.map(() => 0);
    for (let k = 0; k < samples; k++) {
      let best = -1;
      let bestScore = -Infinity;
      options.forEach((o, i) => {
        const p = o.posterior;
        const prob =
          p.model === 'logistic'
            ? 1 / (1 + Math.exp(-(p.mean + Math.sqrt(p.variance) * normal(rng))))
            : beta(rng, p.alpha, p.beta);
        const score = prob * o.value * o.weight - o.cost;
        if (score > bestScore) {
          bestScore = score;
          best = i;
        }
      });
      wins[best]!++;
    }
    return wins.map((w) => w / samples);
  };

  const scenarios: Record<string, ReturnType<typeof make>> = {
    // Wide posteriors over levers that differ (the bench's shape): most draws are settled early.
    'wide, mixed levers': make(
      Array.from({ length: 16 }, (_, i) => [
        logit(-11 + (i % 3) * 0.7, 250 + i * 5),
        { value: 30 + (i % 7) * 5, weight: 1, cost: i % 4 === 1 ? 1 : 0 },
      ]),
    ),
    // Tight posteriors, equal levers (a typical catalog): ranked by the logit draw alone.
    'tight, equal levers': make(
      Array.from({ length: 12 }, (_, i) => [
        logit(-3 + 0.05 * i, 0.02 + 0.01 * (i % 4)),
        { value: 50, weight: 1, cost: 0 },
      ]),
    ),
    // Young arms on Beta posteriors among logistic ones, a zero weight, a cost, equal and unequal weights.
    'Beta and logistic, odd levers': make([
      [logit(-2, 0.5), { value: 10, weight: 1, cost: 0 }],
      [young(2, 5), { value: 10, weight: 1, cost: 0.2 }],
      [logit(-1.8, 0.3), { value: 10, weight: 1, cost: 0.5 }],
      [young(1, 1), { value: 10, weight: 0.5, cost: 0 }],
      [logit(-2.2, 0.8), { value: 10, weight: 1.5, cost: 0 }],
      [logit(-2.1, 0.6), { value: 10, weight: 1, cost: 0 }],
      [logit(3, 0.1), { value: 10, weight: 0, cost: 0 }],
    ]),
  };

  it.each(Object.keys(scenarios))('estimates the same distribution as drawing every option: %s', (name) => {
    const options = scenarios[name]!;
    const samples = 40_000;
    const fast = thompsonDistribution(options, samples, seededRng(11));
    const slow = plain(options, samples, seededRng(12));
    expect(fast.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    fast.forEach((p, i) => {
      const q = slow[i]!;
      // Two independent estimates: their difference has sd √(2·p(1−p)/samples); allow 4.5 of those.
      const sd = Math.sqrt((2 * Math.max(p * (1 - p), q * (1 - q), 1 / samples)) / samples);
      expect(Math.abs(p - q)).toBeLessThan(4.5 * sd);
    });
  });

  it.each(Object.keys(scenarios))(
    'with pooled, sorted deviates (64 samples a call), averages to the same distribution: %s',
    (name) => {
      const options = scenarios[name]!;
      const calls = 3000;
      const rng = seededRng(21);
      const mean = options.map(() => 0);
      for (let c = 0; c < calls; c++) {
        thompsonDistribution(options, 64, rng).forEach((p, i) => (mean[i]! += p / calls));
      }
      const slow = plain(options, 40_000, seededRng(22));
      mean.forEach((p, i) => {
        const q = slow[i]!;
        // Calls share the pool's deviates (one block renewed per call), so the 192,000 draws are worth fewer
        // independent ones: compare at the precision of 40,000 and allow 5 sd.
        const sd = Math.sqrt((2 * Math.max(p * (1 - p), q * (1 - q), 1 / 40_000)) / 40_000);
        expect(Math.abs(p - q)).toBeLessThan(5 * sd);
      });
    },
  );

  it('replays from its seed, whatever it was called with in between', () => {
    const options = scenarios['Beta and logistic, odd levers']!;
    const first = thompsonDistribution(options, 64, seededRng(4));
    expect(thompsonDistribution(options, 64, seededRng(4))).toEqual(first);
    // Same number of options, other levers and kinds; then fewer, then more options.
    const other = make(options.map((o, i) => [logit(-2, 0.5), { value: 10 + i, weight: 1, cost: 0 }]));
    thompsonDistribution(other, 64, seededRng(5));
    expect(thompsonDistribution(options, 64, seededRng(4))).toEqual(first);
    thompsonDistribution(options.slice(0, 3), 64, seededRng(5));
    thompsonDistribution(scenarios['wide, mixed levers']!, 64, seededRng(5));
    expect(thompsonDistribution(options, 64, seededRng(4))).toEqual(first);
  });

  it('prunes by the posteriors of this call, not of the last one over the same levers', () => {
    const lever = { value: 1, weight: 1, cost: 0 };
    const close = make([
      [logit(2, 0.01), lever],
      [logit(1.95, 0.01), lever],
    ]);
    const far = make([
      [logit(2, 0.01), lever],
      [logit(-3, 0.01), lever],
    ]);
    for (let round = 0; round < 2; round++) {
      expect(thompsonDistribution(far, 400, seededRng(round))).toEqual([1, 0]);
      expect(thompsonDistribution(close, 400, seededRng(round))[1]).toBeGreaterThan(0.2);
    }
  });

  it('breaks ties toward the option listed first, as drawing in order does', () => {
    // Both saturate at σ = 1: equal priorities every draw, within a group and across groups.
    const sure = logit(800, 1e-6);
    const half = logit(0, 0); // σ(0) = 0.5 exactly: priority 2 × 0.5 = 1
    const one = { value: 1, weight: 1, cost: 0 };
    const cases: Array<Parameters<typeof make>[0]> = [
      [
        [sure, one],
        [sure, one],
      ],
      [
        [sure, one],
        [sure, { value: 2, weight: 1, cost: 1 }],
      ],
      // The later option has the higher ceiling (visited first) but only ties: the first still wins.
      [
        [sure, one],
        [half, { value: 2, weight: 1, cost: 0 }],
      ],
      [
        [half, { value: 2, weight: 1, cost: 0 }],
        [sure, one],
      ],
    ];
    for (const options of cases)
      expect(thompsonDistribution(make(options), 50, seededRng(1))).toEqual([1, 0]);
  });
});

/** Abramowitz–Stegun 7.1.26 (error < 1.5e-7). */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return x >= 0 ? y : -y;
}
