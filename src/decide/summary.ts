import type { Explanation, ScoreParts } from '../domain/index.js';
import type { Catalog } from './catalog.js';

const pct = (p: number): string => `${(p * 100).toFixed(1)}%`;
const num = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));
const ev = (s: ScoreParts): string =>
  `P(goal) ${pct(s.probability)} × value ${num(s.value)} × weight ${num(s.weight)}` +
  (s.cost > 0 ? ` − cost ${num(s.cost)}` : '') +
  ` = ${num(s.expectedValue)}`;

/** One sentence that says why, for the timeline and the dashboard. */
export const summarize = (e: Omit<Explanation, 'summary'>, catalog: Catalog): string => {
  const removed = e.candidates.filter((c) => c.removed !== undefined);
  switch (e.mode) {
    case 'kill-switch':
      return 'Did nothing: the kill switch is on.';
    case 'holdout':
      return `Did nothing: the customer is in the ${pct(catalog.holdout.share)} holdout group (kept from autonomous actions to measure uplift).`;
    case 'no-candidates': {
      if (e.candidates.length === 0) return 'Did nothing: no action is triggered by this signal.';
      const rules = removed.map((c) => `${c.actionId} (${c.removed?.rule}: ${c.removed?.reason})`);
      return `Did nothing: every candidate was removed: ${rules.join('; ')}.`;
    }
    case 'exploit':
    case 'explore': {
      const how =
        e.mode === 'explore'
          ? `exploring, chosen with probability ${pct(e.propensity)}`
          : 'best expected value';
      const nothing = e.nothing === undefined ? '' : ` vs doing nothing ${ev(e.nothing)}`;
      if (e.chosen === null) {
        const best = e.candidates
          .filter((c) => c.score !== undefined)
          .sort((a, b) => (b.score?.expectedValue ?? 0) - (a.score?.expectedValue ?? 0))[0];
        const vs = best?.score === undefined ? '' : `; best action ${best.actionId}: ${ev(best.score)}`;
        return `Did nothing (${how}): no action's expected value beat doing nothing${nothing === '' ? '' : ` (${ev(e.nothing as ScoreParts)})`}${vs}.`;
      }
      const c = e.candidates.find((x) => x.actionId === e.chosen);
      const score = c?.score === undefined ? '' : `: ${ev(c.score)}`;
      return `Chose ${e.chosen} on ${c?.channel ?? '?'} (${how})${score}${nothing}.`;
    }
    default: {
      const never: never = e.mode;
      return String(never);
    }
  }
};
