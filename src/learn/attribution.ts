/**
 * Reward attribution: which of a customer's open decisions a goal event rewards. Only decisions made before
 * the goal and whose attribution window still covers it qualify; among them `last-touch` (the default) credits
 * the latest, `first-touch` the earliest, `every-touch` all of them. The others stay open and are settled
 * when their window ends.
 */
export type AttributionRule = 'last-touch' | 'first-touch' | 'every-touch';

export interface Attributable {
  id: string;
  at: number;
  attributionEndsAt: number;
}

export const attributeGoal = <D extends Attributable>(
  open: readonly D[],
  goalAt: number,
  rule: AttributionRule,
): D[] => {
  const inWindow = open.filter((d) => d.at <= goalAt && goalAt <= d.attributionEndsAt);
  if (inWindow.length === 0) return [];
  if (rule === 'every-touch') return inWindow;
  const sorted = [...inWindow].sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
  return [rule === 'last-touch' ? (sorted[sorted.length - 1] as D) : (sorted[0] as D)];
};

/**
 * The learning target when a decision's window ends without the goal: the strongest engagement it earned
 * (an open or click weighs less than a conversion), or 0.
 */
export const engagementReward = (outcomes: ReadonlyArray<{ kind: string; reward: number }>): number =>
  outcomes.reduce((best, o) => (o.kind === 'engagement' ? Math.max(best, o.reward) : best), 0);
