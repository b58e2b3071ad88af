import type { Channel, JsonObject } from '../domain/index.js';
import type { PolicyConfig } from '../config/index.js';
import type { CompiledAction } from './catalog.js';
import type { Removal } from './eligibility.js';
import { quietHoursEnd } from './quiet-hours.js';
import { isValidTimeZone } from '../domain/index.js';

/** One earlier decision that chose an action for this customer (from the decision log). */
export interface ContactRecord {
  actionId: string;
  channel: Channel;
  at: number;
  /** When it was (or will be) sent, if quiet hours deferred it. */
  sendAt?: number | null;
  /** Whether any goal or engagement came back for it. */
  responded: boolean;
}

export interface ContactHistory {
  /** Earlier sends, newest first; at least as far back as the longest cap, fatigue and do-not-repeat window. */
  sends: readonly ContactRecord[];
  /** When the customer last reached the goal. */
  lastGoalAt?: number;
  /** Sends per action since the start of the current UTC day (for daily budgets). */
  sentToday: ReadonlyMap<string, number>;
}

/**
 * Caps, fatigue, quiet hours and do-not-repeat protect people from messages. Web content is shown while the
 * customer is on the site and asked for it, so it is neither counted nor held back by them.
 */
const isMessage = (channel: Channel): boolean => channel !== 'web';

const DAY = 86_400_000;

const removed = (rule: string, reason: string): Removal => ({ stage: 'policy', rule, reason });

const consentGiven = (traits: JsonObject, trait: string, purpose: string, channel: Channel): boolean => {
  const all = traits[trait];
  if (all === null || typeof all !== 'object' || Array.isArray(all)) return false;
  const forPurpose = all[purpose];
  if (forPurpose === true) return true;
  if (forPurpose === null || typeof forPurpose !== 'object' || Array.isArray(forPurpose)) return false;
  return forPurpose[channel] === true;
};

const days = (ms: number): string =>
  ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : `${Math.round(ms / 3_600_000)}h`;

/**
 * The contact policy for one candidate: consent, conversion cool-down, do-not-repeat, frequency caps (per
 * channel and across channels), fatigue, daily budget and quiet hours. Returns the first rule that removes
 * it, or when it may be sent (quiet hours in `defer` mode move the send to their end).
 */
export const applyPolicy = (
  a: CompiledAction,
  policy: PolicyConfig,
  customer: { traits: JsonObject },
  history: ContactHistory,
  now: number,
  /** An earlier action's response window (actions no longer in the catalog: a day). */
  responseWindowOf: (actionId: string) => number = () => DAY,
): { removed: Removal } | { sendAt: number } => {
  const c = a.config;
  const requirement = policy.consent.require.findIndex(
    (r) => r.purpose === c.purpose && (r.channel === 'all' || r.channel === a.channel),
  );
  if (requirement >= 0 && !consentGiven(customer.traits, policy.consent.trait, c.purpose, a.channel)) {
    return {
      removed: removed(
        `policy.consent.require[${requirement}]`,
        `no ${c.purpose} consent for ${a.channel} in traits.${policy.consent.trait}`,
      ),
    };
  }
  if (!isMessage(a.channel)) return budget(a, history) ?? { sendAt: now };

  if (policy.conversionCooldown > 0 && history.lastGoalAt !== undefined) {
    if (now - history.lastGoalAt < policy.conversionCooldown) {
      return {
        removed: removed(
          'policy.conversionCooldown',
          `reached the goal ${days(now - history.lastGoalAt)} ago (cool-down ${days(policy.conversionCooldown)})`,
        ),
      };
    }
  }
  if (policy.oneMessageInFlight) {
    const waiting = history.sends.find(
      (s) => isMessage(s.channel) && !s.responded && now < (s.sendAt ?? s.at) + responseWindowOf(s.actionId),
    );
    if (waiting !== undefined) {
      return {
        removed: removed(
          'policy.oneMessageInFlight',
          `${waiting.actionId} (${waiting.channel}) is still waiting for a response`,
        ),
      };
    }
  }
  const repeatWindow = c.doNotRepeat ?? policy.doNotRepeat;
  if (repeatWindow > 0) {
    const last = history.sends.find((s) => s.actionId === a.id && now - s.at < repeatWindow);
    if (last !== undefined) {
      return {
        removed: removed(
          c.doNotRepeat === undefined ? 'policy.doNotRepeat' : `actions[${a.index}].doNotRepeat`,
          `already sent ${days(now - last.at)} ago (not again within ${days(repeatWindow)})`,
        ),
      };
    }
  }
  for (const [i, cap] of policy.frequencyCaps.entries()) {
    if (cap.channel !== 'all' && cap.channel !== a.channel) continue;
    let n = 0;
    for (const s of history.sends) {
      if (now - s.at >= cap.window) break; // newest first
      if (isMessage(s.channel) && (cap.channel === 'all' || s.channel === cap.channel)) n++;
    }
    if (n >= cap.max) {
      const scope = cap.channel === 'all' ? 'messages' : `${cap.channel} messages`;
      return {
        removed: removed(
          `policy.frequencyCaps[${i}]`,
          `${n} ${scope} in the last ${days(cap.window)} (cap ${cap.max})`,
        ),
      };
    }
  }
  if (policy.fatigue !== undefined) {
    let unanswered = 0;
    for (const s of history.sends) {
      if (now - s.at >= policy.fatigue.window || s.responded) break;
      if (isMessage(s.channel)) unanswered++;
    }
    if (unanswered >= policy.fatigue.maxUnanswered) {
      return {
        removed: removed('policy.fatigue', `${unanswered} messages in a row without a response`),
      };
    }
  }
  const overBudget = budget(a, history);
  if (overBudget !== undefined) return overBudget;
  const q = policy.quietHours;
  if (q !== undefined && q.channels.includes(a.channel)) {
    const own = customer.traits[q.timezoneTrait];
    const zone = typeof own === 'string' && isValidTimeZone(own) ? own : q.defaultTimezone;
    const end = quietHoursEnd(now, zone, q);
    if (end !== undefined) {
      if (q.mode === 'skip') return { removed: removed('policy.quietHours', `quiet hours in ${zone}`) };
      return { sendAt: end };
    }
  }
  return { sendAt: now };
};

const budget = (a: CompiledAction, history: ContactHistory): { removed: Removal } | undefined => {
  const perDay = a.config.budget?.perDay;
  if (perDay === undefined) return undefined;
  const used = history.sentToday.get(a.id) ?? 0;
  return used >= perDay
    ? { removed: removed(`actions[${a.index}].budget`, `daily budget of ${perDay} sends used`) }
    : undefined;
};
