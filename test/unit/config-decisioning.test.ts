import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig, formatIssue } from '../../src/config/index.js';
import {
  ELIGIBILITY_VARIABLES,
  checkEligibilityExpression,
  closest,
  eligibilityEnvironment,
} from '../../src/config/check-decisioning.js';

const DAY = 86_400_000;

/** A small valid decisioning config; each bad case below changes one thing in it. */
const base = () => ({
  segments: [
    { name: 'customers', where: 'computed.orders >= 1' },
    { name: 'lapsed', where: 'computed.orders_30d == 0' },
  ],
  goal: {
    event: 'Order Completed',
    engagement: [
      { name: 'open', event: 'Message Opened', weight: 0.1 },
      { name: 'click', event: 'Message Clicked', weight: 0.3 },
    ],
  },
  placements: [{ id: 'home_banner' }, { id: 'product_sidebar' }],
  actions: [
    { id: 'welcome', channel: 'email', trigger: { events: ['Signed Up'] } } as Record<string, unknown>,
    { id: 'banner', channel: 'web', trigger: { placements: ['home_banner'] } } as Record<string, unknown>,
  ],
  policy: { consent: { require: [{ channel: 'email', purpose: 'marketing' }] } } as Record<string, unknown>,
});
type Doc = ReturnType<typeof base> & Record<string, unknown>;

/** Every issue as `path: message` (without the line, which depends on how the document is written). */
const issuesOf = (change: (doc: Doc) => void): string[] => {
  const doc = base() as Doc;
  change(doc);
  const r = parseConfig(stringify(doc));
  return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
};

const action = (doc: Doc, i: number): Record<string, unknown> => doc.actions[i] as Record<string, unknown>;

describe('decisioning config: valid input', () => {
  it('the base config is valid', () => {
    expect(issuesOf(() => {})).toEqual([]);
  });

  it('parses every section into engine units, with the defaults filled in', () => {
    const r = parseConfig(
      [
        'segments:',
        '  - {name: customers, where: computed.orders >= 1}',
        'goal:',
        '  event: Order Completed',
        '  value: {property: total, default: 45}',
        '  attributionWindow: 3d',
        '  engagement:',
        '    - {name: click, event: Message Clicked, weight: 0.3}',
        'placements:',
        '  - {id: home_banner, description: top of the home page}',
        'actions:',
        '  - id: discount',
        '    channel: email',
        '    trigger: {segmentsEntered: [customers]}',
        '    eligible: has(traits.email) && event.name == "Product Viewed"',
        '    cost: 4',
        '    doNotRepeat: 0s',
        '    start: 2026-12-01',
        '    end: 2026-12-24T18:00:00Z',
        '    status: approved',
        '  - id: banner',
        '    channel: web',
        '    trigger: {placements: [home_banner]}',
        'policy:',
        '  consent:',
        '    require: [{channel: all, purpose: marketing}]',
        '  frequencyCaps: [{channel: all, max: 4, window: 7d}]',
        '  quietHours: {start: "21:00", end: "08:00", defaultTimezone: Europe/Berlin}',
        '  conversionCooldown: 3d',
        'holdout: {share: 0.05}',
      ].join('\n'),
    );
    expect(r.ok ? [] : r.issues.map(formatIssue)).toEqual([]);
    if (!r.ok) return;
    const c = r.config;
    expect(c.goal).toEqual({
      event: 'Order Completed',
      value: { property: 'total', default: 45 },
      attributionWindow: 3 * DAY,
      attribution: 'last-touch',
      learnAt: 'conversion',
      engagement: [{ name: 'click', event: 'Message Clicked', weight: 0.3 }],
    });
    expect(c.placements).toEqual([{ id: 'home_banner', description: 'top of the home page' }]);
    expect(c.actions[0]).toEqual({
      id: 'discount',
      channel: 'email',
      purpose: 'marketing',
      content: {},
      trigger: { events: [], segmentsEntered: ['customers'], placements: [] },
      eligible: 'has(traits.email) && event.name == "Product Viewed"',
      audience: { include: [], exclude: [] },
      cost: 4,
      weight: 1,
      status: 'approved',
      start: Date.UTC(2026, 11, 1),
      end: Date.UTC(2026, 11, 24, 18),
      doNotRepeat: 0,
      responseWindow: DAY,
    });
    expect(c.actions[1]).toMatchObject({ status: 'draft', cost: 0, weight: 1, responseWindow: DAY });
    expect(c.actions[1]?.doNotRepeat).toBeUndefined();
    expect(c.policy).toEqual({
      killSwitch: false,
      consent: { trait: 'consent', require: [{ channel: 'all', purpose: 'marketing' }] },
      frequencyCaps: [{ channel: 'all', max: 4, window: 7 * DAY }],
      quietHours: {
        start: 21 * 60,
        end: 8 * 60,
        timezoneTrait: 'timezone',
        defaultTimezone: 'Europe/Berlin',
        channels: ['email', 'sms', 'push'],
        mode: 'defer',
      },
      conversionCooldown: 3 * DAY,
      doNotRepeat: 7 * DAY,
      oneMessageInFlight: true,
    });
    expect(c.holdout).toEqual({ share: 0.05, salt: 'pathwise-holdout' });
    expect(c.exploration).toEqual({ min: 0.02, max: 0.3 });
    expect(c.model).toEqual({
      featureBits: 18,
      priorVariance: 1,
      minObservations: 50,
      propensitySamples: 64,
    });
  });

  it('a config without any decisioning sections gets the defaults and no goal', () => {
    const r = parseConfig('workspace: t\n');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.goal).toBeUndefined();
    expect(r.config.actions).toEqual([]);
    expect(r.config.policy.doNotRepeat).toBe(7 * DAY);
    expect(r.config.holdout.share).toBe(0.1);
  });

  it('a consent rule for a purpose no action uses yet (transactional) is allowed', () => {
    expect(
      issuesOf((d) => {
        d.policy = { consent: { require: [{ channel: 'sms', purpose: 'transactional' }] } };
      }),
    ).toEqual([]);
  });
});

describe('decisioning config: each problem names its path and the fix', () => {
  const cases: [string, (d: Doc) => void, string][] = [
    [
      'duplicate action id',
      (d) => void (action(d, 1).id = 'welcome'),
      'actions[1].id: duplicate action id "welcome" (first at index 0)',
    ],
    [
      'duplicate placement id',
      (d) => d.placements.push({ id: 'home_banner' }),
      'placements[2].id: duplicate placement id "home_banner" (first at index 0)',
    ],
    [
      'duplicate engagement name',
      (d) => void (d.goal.engagement[1]!.name = 'open'),
      'goal.engagement[1].name: duplicate engagement name "open" (first at index 0)',
    ],
    [
      'eligible with an unknown variable',
      (d) => void (action(d, 0).eligible = 'trait.plan == "gold"'),
      'actions[0].eligible: expression is not valid: Unknown variable: trait at column 1 ' +
        '(variables: traits, computed, segments, event, context, now)',
    ],
    [
      'eligible that is not a condition',
      (d) => void (action(d, 0).eligible = 'size(segments)'),
      'actions[0].eligible: expression must be true or false, but it gives int',
    ],
    [
      'eligible with a day duration',
      (d) => void (action(d, 0).eligible = 'now - duration("30d") > computed.last_order_at'),
      'actions[0].eligible: duration("30d") is not a CEL duration: use h, m, s (e.g. duration("720h") for 30 days)',
    ],
    [
      'a misspelt placement',
      (d) => void (action(d, 1).trigger = { placements: ['home_baner'] }),
      'actions[1].trigger.placements[0]: unknown placement "home_baner": did you mean "home_banner"?',
    ],
    [
      'a placement that is not declared',
      (d) => void (action(d, 1).trigger = { placements: ['home_banner', 'checkout'] }),
      'actions[1].trigger.placements[1]: unknown placement "checkout": declared placements are home_banner, product_sidebar',
    ],
    [
      'a placement when none is declared',
      (d) => void (d.placements = []),
      'actions[1].trigger.placements[0]: unknown placement "home_banner": declare it under placements:',
    ],
    [
      'an entered segment that is not declared',
      (d) => void (action(d, 0).trigger = { segmentsEntered: ['lapsd'] }),
      'actions[0].trigger.segmentsEntered[0]: unknown segment "lapsd": did you mean "lapsed"?',
    ],
    [
      'an audience segment that is not declared',
      (d) => void (action(d, 0).audience = { include: ['customers'], exclude: ['vip'] }),
      'actions[0].audience.exclude[0]: unknown segment "vip": declared segments are customers, lapsed',
    ],
    [
      'a web action without placements',
      (d) => void (action(d, 1).trigger = {}),
      'actions[1].trigger.placements: a web action is shown only when a placement asks for content: list at least one placement it can fill',
    ],
    [
      'a web action triggered by events',
      (d) => void (action(d, 1).trigger = { events: ['Product Viewed'], placements: ['home_banner'] }),
      'actions[1].trigger.events: a web action is chosen only for a placement request, not on events: remove it',
    ],
    [
      'an email action with placements',
      (d) => void (action(d, 0).trigger = { events: ['Signed Up'], placements: ['home_banner'] }),
      'actions[0].trigger.placements: only web actions fill placements; this email action is sent, not shown: remove it or use channel: web',
    ],
    [
      'an action without a trigger',
      (d) => void delete action(d, 0).trigger,
      'actions[0].trigger: no trigger: the action would never be a candidate; list trigger.events or trigger.segmentsEntered',
    ],
    [
      'an audience that excludes everyone it includes',
      (d) => void (action(d, 0).audience = { include: ['lapsed'], exclude: ['lapsed', 'customers'] }),
      'actions[0].audience.include: every included segment is also excluded: the action would never be a candidate',
    ],
    [
      'an end before the start',
      (d) => Object.assign(action(d, 0), { start: '2026-12-24', end: '2026-12-01' }),
      'actions[0].end: end (2026-12-01) must be after start (2026-12-24)',
    ],
    [
      'a date-time without a time zone',
      (d) => void (action(d, 0).start = '2026-12-01T09:00'),
      'actions[0].start: "2026-12-01T09:00" has a time but no time zone: add Z or an offset, e.g. 2026-12-01T09:00Z or 2026-12-01T09:00+01:00',
    ],
    [
      'a date that is not one',
      (d) => void (action(d, 0).end = 'Christmas'),
      'actions[0].end: "Christmas" is not a date: write e.g. 2026-12-01 or 2026-12-01T09:00:00Z',
    ],
    [
      'a time of day that is not one',
      (d) => void (d.policy.quietHours = { start: '9pm', end: '08:00' }),
      'policy.quietHours.start: "9pm" is not a time of day: write HH:MM, e.g. 21:00',
    ],
    [
      'a misspelt time zone',
      (d) => void (d.policy.quietHours = { start: '21:00', end: '08:00', defaultTimezone: 'Europe/Berln' }),
      'policy.quietHours.defaultTimezone: "Europe/Berln" is not an IANA time zone: did you mean "Europe/Berlin"?',
    ],
    [
      'a time zone that is not one',
      (d) =>
        void (d.policy.quietHours = { start: '21:00', end: '08:00', defaultTimezone: 'Central European' }),
      'policy.quietHours.defaultTimezone: "Central European" is not an IANA time zone: write e.g. Europe/Berlin, America/New_York or UTC',
    ],
    [
      'quiet hours that start and end together',
      (d) => void (d.policy.quietHours = { start: '21:00', end: '21:00' }),
      'policy.quietHours.end: quiet hours start and end at 21:00: set end to when they stop, e.g. start: "21:00", end: "08:00"',
    ],
    [
      'actions without a goal',
      (d) => void delete (d as Partial<Doc>).goal,
      'goal: required when actions are declared: the engine needs a goal to learn which action works (e.g. goal: {event: Order Completed})',
    ],
    [
      'a misspelt purpose in a consent rule',
      (d) => void (d.policy = { consent: { require: [{ channel: 'email', purpose: 'marketng' }] } }),
      'policy.consent.require[0].purpose: no action has purpose "marketng", so this rule applies to nothing: did you mean "marketing"?',
    ],
    [
      'a misspelt purpose on every action is reported at the actions, not at the rule',
      (d) => {
        d.actions.splice(1);
        action(d, 0).purpose = 'marketting';
      },
      'actions[0].purpose: no policy.consent rule names purpose "marketting", so this action needs no consent: did you mean "marketing"?',
    ],
    [
      'a misspelt purpose on an action',
      (d) => void (action(d, 0).purpose = 'marketting'),
      'actions[0].purpose: no policy.consent rule names purpose "marketting", so this action needs no consent: did you mean "marketing"?',
    ],
    [
      'an exploration floor above its cap',
      (d) => void (d.exploration = { max: 0.01 }),
      'exploration.max: min (0.02) is above max (0.01): the exploration floor cannot exceed the exploration cap',
    ],
    [
      'a holdout above half',
      (d) => void (d.holdout = { share: 0.9 }),
      'holdout.share: a share from 0 to 0.5, e.g. 0.1',
    ],
    [
      'an engagement weight above 1',
      (d) => void (d.goal.engagement[0]!.weight = 2),
      'goal.engagement[0].weight: a share from 0 to 1, e.g. 0.2',
    ],
  ];

  it.each(cases)('%s', (_name, change, expected) => {
    expect(issuesOf(change)).toEqual([expected]);
  });

  it('an eligible expression that does not parse gives the column', () => {
    const issues = issuesOf((d) => void (action(d, 0).eligible = 'event.name =='));
    expect(issues).toEqual([
      'actions[0].eligible: expression does not parse: Unexpected token: EOF at column 14',
    ]);
  });
});

describe('decisioning config: every problem at once, with lines', () => {
  it('reports schema and semantic problems together, sorted by line', () => {
    const text = [
      'segments:', // 1
      '  - {name: lapsed, where: computed.orders_30d == 0}', // 2
      'placements:', // 3
      '  - id: home_banner', // 4
      'actions:', // 5
      '  - id: welcome', // 6
      '    channel: email', // 7
      '    trigger: {segmentsEntered: [lapsd]}', // 8
      '    eligible: traits.vip ==', // 9
      '  - id: welcome', // 10
      '    channel: web', // 11
      '    trigger: {placements: [home_baner]}', // 12
      '    cost: -1', // 13
      '  - id: sms', // 14
      '    channel: sms', // 15
      'policy:', // 16
      '  quietHours: {start: "21:00", end: "21:00", defaultTimezone: Mars/Olympus}', // 17
      'holdout: {share: 0.7}', // 18
    ].join('\n');
    const r = parseConfig(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map(formatIssue)).toEqual([
      'goal (line 1): required when actions are declared: the engine needs a goal to learn which action works (e.g. goal: {event: Order Completed})',
      'actions[0].trigger.segmentsEntered[0] (line 8): unknown segment "lapsd": did you mean "lapsed"?',
      'actions[0].eligible (line 9): expression does not parse: Unexpected token: EOF at column 14',
      'actions[1].id (line 10): duplicate action id "welcome" (first at index 0)',
      'actions[1].trigger.placements[0] (line 12): unknown placement "home_baner": did you mean "home_banner"?',
      'actions[1].cost (line 13): Too small: expected number to be >=0',
      'actions[2].trigger (line 14): no trigger: the action would never be a candidate; list trigger.events or trigger.segmentsEntered',
      'policy.quietHours.end (line 17): quiet hours start and end at 21:00: set end to when they stop, e.g. start: "21:00", end: "08:00"',
      'policy.quietHours.defaultTimezone (line 17): "Mars/Olympus" is not an IANA time zone: write e.g. Europe/Berlin, America/New_York or UTC',
      'holdout.share (line 18): a share from 0 to 0.5, e.g. 0.1',
    ]);
  });
});

describe('eligibility expressions', () => {
  it('declares the variables src/decide evaluates with', () => {
    expect(ELIGIBILITY_VARIABLES.map((v) => v.name)).toEqual([
      'traits',
      'computed',
      'segments',
      'event',
      'context',
      'now',
    ]);
  });

  it('accepts conditions over every variable and refuses the rest', () => {
    expect(
      checkEligibilityExpression('event.name == "Product Viewed" && event.properties.price > 20.0'),
    ).toBe(undefined);
    expect(checkEligibilityExpression('context.page.path.startsWith("/p/") && "vip" in segments')).toBe(
      undefined,
    );
    expect(checkEligibilityExpression('traits.vip')).toBeUndefined(); // dyn: decided at run time
    expect(checkEligibilityExpression('now.getHours() >= 8')).toBeUndefined();
    expect(checkEligibilityExpression('evnt.name == "x"')).toMatch(/Unknown variable: evnt at column 1/);
    expect(checkEligibilityExpression('1 +')).toMatch(/^expression does not parse: .* at column \d+$/);
  });

  it('the environment evaluates what it checks', () => {
    const env = eligibilityEnvironment();
    const ctx = {
      traits: { phone: '+4930' },
      computed: {},
      segments: ['lapsed'],
      event: { name: 'Product Viewed', properties: { price: 120 } },
      context: {},
      now: new Date(0),
    };
    expect(env.evaluate('has(traits.phone) && event.properties.price >= 100.0', ctx)).toBe(true);
    expect(env.evaluate('"lapsed" in segments && event.name == "Order Completed"', ctx)).toBe(false);
  });

  it('suggests only near misses', () => {
    expect(closest('marketng', ['marketing', 'transactional'])).toBe('marketing');
    expect(closest('Home_Banner', ['home_banner'])).toBe('home_banner');
    expect(closest('promo', ['marketing'])).toBeUndefined();
    expect(closest('sm', ['sms'])).toBeUndefined();
  });
});

describe('the example workspace', () => {
  const r = parseConfig(readFileSync(new URL('../../examples/shop/pathwise.yaml', import.meta.url), 'utf8'));

  it('is valid', () => {
    expect(r.ok ? [] : r.issues.map(formatIssue)).toEqual([]);
  });

  it('has a goal with a property value and engagement signals', () => {
    if (!r.ok) return;
    expect(r.config.goal).toMatchObject({
      event: 'Order Completed',
      value: { property: 'total', default: 45 },
    });
    expect(r.config.goal?.engagement.map((e) => e.name)).toEqual(['open', 'click']);
  });

  it('has two placements and a catalog over email, sms, push and web, with a draft', () => {
    if (!r.ok) return;
    const { actions, placements } = r.config;
    expect(placements.map((p) => p.id)).toEqual(['home_banner', 'product_sidebar']);
    expect(actions.length).toBeGreaterThanOrEqual(6);
    expect(actions.length).toBeLessThanOrEqual(8);
    expect(new Set(actions.map((a) => a.channel))).toEqual(new Set(['email', 'sms', 'push', 'web']));
    const web = actions.filter((a) => a.channel === 'web');
    expect(new Set(web.flatMap((a) => a.trigger.placements))).toEqual(
      new Set(['home_banner', 'product_sidebar']),
    );
    expect(actions.find((a) => a.channel === 'sms' && a.status === 'approved')?.cost).toBe(0.05);
    expect(actions.some((a) => a.channel === 'email' && a.cost > 0)).toBe(true);
    expect(actions.filter((a) => a.status === 'draft')).toHaveLength(1);
  });

  it('has a contact policy, a 10% holdout and default exploration', () => {
    if (!r.ok) return;
    const { policy, holdout, exploration, model } = r.config;
    expect(policy.consent.require).toEqual(
      ['email', 'sms', 'push'].map((channel) => ({ channel, purpose: 'marketing' })),
    );
    expect(new Set(policy.frequencyCaps.map((c) => c.channel))).toEqual(
      new Set(['email', 'sms', 'push', 'all']),
    );
    expect(policy.quietHours).toMatchObject({
      start: 21 * 60,
      end: 8 * 60,
      timezoneTrait: 'timezone',
      defaultTimezone: 'Europe/Berlin',
    });
    expect(policy.conversionCooldown).toBeGreaterThan(0);
    expect(policy.doNotRepeat).toBeGreaterThan(0);
    expect(holdout.share).toBe(0.1);
    expect(exploration).toEqual({ min: 0.02, max: 0.3 });
    expect(model.minObservations).toBe(50);
  });
});

describe('docs/configuration.md', () => {
  const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const [reference = '', checking = ''] = doc.split('\n## Checking a config file\n');
  const blocks = (text: string, lang: string): string[] =>
    [...text.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1] ?? '');

  it('every YAML example before "Checking a config file" is valid', () => {
    const yamls = blocks(reference, 'yaml');
    expect(yamls.length).toBeGreaterThanOrEqual(8);
    for (const text of yamls) {
      const r = parseConfig(text);
      expect(r.ok ? [] : r.issues.map(formatIssue), text).toEqual([]);
    }
  });

  it('every broken example prints the problems the doc shows', () => {
    const yamls = blocks(checking, 'yaml');
    const consoles = blocks(checking, 'console');
    expect(yamls.length).toBeGreaterThanOrEqual(2);
    yamls.forEach((text, i) => {
      const shown = (consoles[i] ?? '').split('\n');
      const file = /^\$ pathwise config check (\S+)$/.exec(shown[0] ?? '')?.[1] ?? '';
      const r = parseConfig(text);
      const printed = r.ok ? [] : r.issues.map((issue) => `${file}: ${formatIssue(issue)}`);
      expect(shown.filter((l) => l.startsWith(`${file}: `))).toEqual(printed);
    });
  });
});
