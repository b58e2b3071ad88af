import type { Environment } from '@marcbachmann/cel-js';
import {
  celEnvironment,
  checkCondition,
  checkUnique,
  isRecord,
  type AddIssue,
  type CelVariable,
} from './check.js';
import { actionSchema, explorationSchema } from './decisioning.js';

/**
 * The variables an action's `eligible` expression may use. `src/decide` evaluates the expressions with
 * exactly these, so config check and the engine agree on what is valid.
 */
export const ELIGIBILITY_VARIABLES: readonly CelVariable[] = [
  { name: 'traits', type: 'map<string, dyn>' },
  { name: 'computed', type: 'map<string, dyn>' },
  { name: 'segments', type: 'list<string>' },
  /** The triggering event: `event.name`, `event.properties`. */
  { name: 'event', type: 'map<string, dyn>' },
  /** The request context (e.g. a placement request's page). */
  { name: 'context', type: 'map<string, dyn>' },
  { name: 'now', type: 'google.protobuf.Timestamp' },
];

/** A new CEL environment declaring the eligibility variables. */
export const eligibilityEnvironment = (): Environment => celEnvironment(ELIGIBILITY_VARIABLES);

// Built on first use: check.ts imports this module, so nothing from it may run while modules load.
let env: Environment | undefined;

/** Type-checks an `eligible` expression; returns why it is unusable, or undefined when it is fine. */
export const checkEligibilityExpression = (expr: string): string | undefined =>
  checkCondition((env ??= eligibilityEnvironment()), ELIGIBILITY_VARIABLES, expr);

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const record = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {});
const namesIn = (section: unknown, key: string): Set<string> =>
  new Set(
    list(section).flatMap((item) => (isRecord(item) && typeof item[key] === 'string' ? [item[key]] : [])),
  );

/** Levenshtein distance, for "did you mean" hints. */
const distance = (a: string, b: string): number => {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
};

/** The candidate `word` is most likely a typo of: at most 2 edits away, fewer for short words, ignoring case. */
export const closest = (word: string, candidates: Iterable<string>): string | undefined => {
  let best: string | undefined;
  let bestDistance = Math.min(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
};

const listed = (names: ReadonlySet<string>): string => {
  const all = [...names];
  return all.length <= 8 ? all.join(', ') : `${all.slice(0, 8).join(', ')}, …`;
};

/** Reports each entry of `refs` that is not among the `declared` names of `section`. */
const checkRefs = (
  refs: unknown,
  at: PropertyKey[],
  declared: ReadonlySet<string>,
  what: string,
  section: string,
  add: AddIssue,
) =>
  list(refs).forEach((ref, j) => {
    if (typeof ref !== 'string' || declared.has(ref)) return;
    const hint = closest(ref, declared);
    add(
      [...at, j],
      `unknown ${what} "${ref}": ` +
        (hint !== undefined
          ? `did you mean "${hint}"?`
          : declared.size === 0
            ? `declare it under ${section}:`
            : `declared ${what}s are ${listed(declared)}`),
    );
  });

const DEFAULT_PURPOSE = actionSchema.shape.purpose.parse(undefined);

const DATE = /^\d{4}-\d{2}-\d{2}/;
const dateMs = (v: unknown): number | undefined =>
  typeof v === 'string' && DATE.test(v) && !Number.isNaN(Date.parse(v)) ? Date.parse(v) : undefined;

const isTimeZone = (timeZone: string): boolean => {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone });
    return true;
  } catch {
    return false;
  }
};

interface Known {
  placements: Set<string>;
  segments: Set<string>;
  /** Purposes named by `policy.consent.require`. */
  consentPurposes: Set<string>;
}

/** The trigger names declared things, and can fire for the action's channel. */
const checkTrigger = (a: Record<string, unknown>, at: PropertyKey[], known: Known, add: AddIssue) => {
  const trigger = record(a.trigger);
  const events = list(trigger.events);
  const entered = list(trigger.segmentsEntered);
  const placements = list(trigger.placements);
  const t = [...at, 'trigger'];
  checkRefs(placements, [...t, 'placements'], known.placements, 'placement', 'placements', add);
  checkRefs(entered, [...t, 'segmentsEntered'], known.segments, 'segment', 'segments', add);

  // Web content is chosen only when a placement asks for it (POST /v1/decide); messages only on events
  // and segment entries. A trigger of the other kind would make the action a candidate where it cannot go.
  if (a.channel === 'web') {
    if (placements.length === 0) {
      add(
        [...t, 'placements'],
        'a web action is shown only when a placement asks for content: list at least one placement it can fill',
      );
    }
    if (events.length !== 0)
      add([...t, 'events'], 'a web action is chosen only for a placement request, not on events: remove it');
    if (entered.length !== 0) {
      add(
        [...t, 'segmentsEntered'],
        'a web action is chosen only for a placement request, not on segment entry: remove it ' +
          '(use audience.include to show it to a segment)',
      );
    }
  } else {
    if (typeof a.channel === 'string' && placements.length !== 0) {
      add(
        [...t, 'placements'],
        `only web actions fill placements; this ${a.channel} action is sent, not shown: remove it or use channel: web`,
      );
    }
    if (events.length === 0 && entered.length === 0) {
      add(
        t,
        'no trigger: the action would never be a candidate; list trigger.events or trigger.segmentsEntered',
      );
    }
  }
};

const checkAction = (a: Record<string, unknown>, at: PropertyKey[], known: Known, add: AddIssue) => {
  checkTrigger(a, at, known, add);
  const audience = record(a.audience);
  checkRefs(audience.include, [...at, 'audience', 'include'], known.segments, 'segment', 'segments', add);
  checkRefs(audience.exclude, [...at, 'audience', 'exclude'], known.segments, 'segment', 'segments', add);
  const include = list(audience.include);
  const exclude = new Set(list(audience.exclude));
  if (include.length > 0 && include.every((s) => exclude.has(s))) {
    add(
      [...at, 'audience', 'include'],
      'every included segment is also excluded: the action would never be a candidate',
    );
  }

  const [start, end] = [dateMs(a.start), dateMs(a.end)];
  if (start !== undefined && end !== undefined && end <= start) {
    add([...at, 'end'], `end (${String(a.end)}) must be after start (${String(a.start)})`);
  }

  if (typeof a.eligible === 'string' && a.eligible !== '') {
    const problem = checkEligibilityExpression(a.eligible);
    if (problem !== undefined) add([...at, 'eligible'], problem);
  }

  // A misspelt purpose escapes the consent rule meant for it: the action would go out without consent.
  if (typeof a.purpose === 'string' && !known.consentPurposes.has(a.purpose)) {
    const hint = closest(a.purpose, known.consentPurposes);
    if (hint !== undefined) {
      add(
        [...at, 'purpose'],
        `no policy.consent rule names purpose "${a.purpose}", so this action needs no consent: did you mean "${hint}"?`,
      );
    }
  }
};

const checkPolicy = (
  raw: Record<string, unknown>,
  purposes: { ofActions: Set<string>; explicit: Set<string>; ofRules: Set<string> },
  add: AddIssue,
) => {
  const policy = record(raw.policy);
  const quiet = record(policy.quietHours);
  if (typeof quiet.start === 'string' && quiet.start === quiet.end && /^\d\d:\d\d$/.test(quiet.start)) {
    add(
      ['policy', 'quietHours', 'end'],
      `quiet hours start and end at ${quiet.start}: set end to when they stop, e.g. start: "21:00", end: "08:00"`,
    );
  }
  const zone = quiet.defaultTimezone;
  if (typeof zone === 'string' && zone !== '' && !isTimeZone(zone)) {
    const hint = closest(zone, ['UTC', ...Intl.supportedValuesOf('timeZone')]);
    add(
      ['policy', 'quietHours', 'defaultTimezone'],
      `"${zone}" is not an IANA time zone: ` +
        (hint === undefined
          ? 'write e.g. Europe/Berlin, America/New_York or UTC'
          : `did you mean "${hint}"?`),
    );
  }
  // A rule for a purpose no action has yet is fine (e.g. `transactional` before such actions exist);
  // one that is a near miss of a purpose in use is a typo. When that purpose is written on an action and
  // has no rule of its own, the action's purpose is reported instead (checkAction): one typo, one message.
  list(record(policy.consent).require).forEach((rule, i) => {
    const purpose = record(rule).purpose;
    if (typeof purpose !== 'string' || purposes.ofActions.has(purpose)) return;
    const hint = closest(purpose, purposes.ofActions);
    if (hint !== undefined && !(purposes.explicit.has(hint) && !purposes.ofRules.has(hint))) {
      add(
        ['policy', 'consent', 'require', i, 'purpose'],
        `no action has purpose "${purpose}", so this rule applies to nothing: did you mean "${hint}"?`,
      );
    }
  });
};

const checkExploration = (raw: Record<string, unknown>, add: AddIssue) => {
  const exploration = record(raw.exploration);
  const defaults = explorationSchema.parse({});
  const min = typeof exploration.min === 'number' ? exploration.min : defaults.min;
  const max = typeof exploration.max === 'number' ? exploration.max : defaults.max;
  if (min > max) {
    add(
      ['exploration', typeof exploration.min === 'number' ? 'min' : 'max'],
      `min (${min}) is above max (${max}): the exploration floor cannot exceed the exploration cap`,
    );
  }
};

/**
 * Checks of the decisioning sections zod cannot express: unique ids, references to declared placements
 * and segments, triggers that can fire for the action's channel, `eligible` expressions, dates and times,
 * and the goal the engine learns from. Works on the raw document, like `checkConfig`.
 */
export const checkDecisioning = (raw: Record<string, unknown>, add: AddIssue): void => {
  const actions = list(raw.actions);
  checkUnique(raw.actions, ['actions'], 'id', 'action id', add);
  checkUnique(raw.placements, ['placements'], 'id', 'placement id', add);
  checkUnique(record(raw.goal).engagement, ['goal', 'engagement'], 'name', 'engagement name', add);

  if (actions.length > 0 && raw.goal === undefined) {
    add(
      ['goal'],
      'required when actions are declared: the engine needs a goal to learn which action works ' +
        '(e.g. goal: {event: Order Completed})',
    );
  }

  const known: Known = {
    placements: namesIn(raw.placements, 'id'),
    segments: namesIn(raw.segments, 'name'),
    consentPurposes: namesIn(record(record(raw.policy).consent).require, 'purpose'),
  };
  const purposes = {
    ofActions: new Set<string>(),
    explicit: new Set<string>(),
    ofRules: known.consentPurposes,
  };
  actions.forEach((a, i) => {
    if (!isRecord(a)) return;
    if (typeof a.purpose === 'string') purposes.explicit.add(a.purpose);
    purposes.ofActions.add(typeof a.purpose === 'string' ? a.purpose : DEFAULT_PURPOSE);
    checkAction(a, ['actions', i], known, add);
  });
  checkPolicy(raw, purposes, add);
  checkExploration(raw, add);
};
