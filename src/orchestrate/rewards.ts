import type { GoalConfig } from '../config/index.js';
import type { Outcome, PathwiseEvent } from '../domain/index.js';
import { attributeGoal, engagementReward } from '../learn/index.js';
import type { StoreWriter } from '../store/index.js';
import { LEARNABLE } from './learner.js';

/** The computed trait Pathwise keeps on every profile when a goal is set: when the customer last reached it. */
export const LAST_GOAL_TRAIT = 'pathwise_last_goal_at';

const goalValueOf = (goal: GoalConfig, properties: Record<string, unknown>): number => {
  if (typeof goal.value === 'number') return goal.value;
  const v = properties[goal.value.property];
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : goal.value.default;
};

/**
 * Turns events into outcomes of earlier decisions, inside the same transaction as the event: a goal event
 * rewards the decisions its attribution rule credits (reward 1, with the goal's value); an engagement event
 * naming a decision (`properties.decisionId`) records a weaker signal that counts if the goal never comes.
 * Returns how many decisions were resolved, so the caller knows the model has something to learn.
 */
export const outcomesFromEvent = async (
  w: StoreWriter,
  goal: GoalConfig | undefined,
  event: PathwiseEvent,
  profileId: string,
): Promise<number> => {
  if (goal === undefined || event.type !== 'track') return 0;
  const cause = `${event.source}:${event.messageId}`;
  if (event.event === goal.event) {
    const inWindow = (await w.decisionsSince(profileId, event.timestamp - goal.attributionWindow)).filter(
      (d) => LEARNABLE.has(d.mode),
    );
    const value = goalValueOf(goal, event.properties);
    let resolved = 0;
    // The rule picks among every decision in the window; one already settled is not credited twice.
    for (const d of attributeGoal(inWindow, event.timestamp, goal.attribution)) {
      if (d.resolved) continue;
      const o: Outcome = { decisionId: d.id, at: event.timestamp, kind: 'goal', reward: 1, value, cause };
      if (!(await w.addOutcome(o))) continue;
      // Learned when the window ends (settleExpired), like a miss: see goal.learnAt.
      if (goal.learnAt === 'window-end') continue;
      if (
        (await w.resolveDecision(d.id, { reward: 1, value, at: event.timestamp, kind: 'goal' })) !== undefined
      )
        resolved++;
    }
    return resolved;
  }
  const signal = goal.engagement.find((e) => e.event === event.event);
  const decisionId = event.properties.decisionId;
  if (signal !== undefined && typeof decisionId === 'string') {
    const d = await w.getDecision(decisionId);
    // Only the customer the decision was for can engage with it (merges move decisions along with profiles).
    if (d !== undefined && d.profileId === profileId && d.resolution === undefined) {
      await w.addOutcome({
        decisionId,
        at: event.timestamp,
        kind: 'engagement',
        reward: signal.weight,
        value: 0,
        cause,
      });
    }
  }
  return 0;
};

/**
 * Settles a decision whose attribution window ended unresolved: the goal if one was credited to it and held
 * for the window's end (`goal.learnAt: window-end`), else its best engagement, or zero.
 */
export const settleExpired = async (w: StoreWriter, decisionId: string, now: number): Promise<boolean> => {
  const d = await w.getDecision(decisionId);
  if (d === undefined || d.resolution !== undefined) return false;
  const goal = d.outcomes.find((o) => o.kind === 'goal');
  if (goal !== undefined) {
    const resolution = { reward: 1, value: goal.value, at: now, kind: 'goal' as const };
    return (await w.resolveDecision(decisionId, resolution)) !== undefined;
  }
  const reward = engagementReward(d.outcomes);
  const kind = reward > 0 ? 'engagement' : 'none';
  await w.addOutcome({ decisionId, at: now, kind: 'none', reward: 0, value: 0, cause: 'window-ended' });
  return (await w.resolveDecision(decisionId, { reward, value: 0, at: now, kind })) !== undefined;
};
