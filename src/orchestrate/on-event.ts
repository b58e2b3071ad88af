import type { GoalConfig } from '../config/index.js';
import type { PathwiseEvent } from '../domain/index.js';
import type { Catalog } from '../decide/index.js';
import type { StoreWriter } from '../store/index.js';
import { outcomesFromEvent } from './rewards.js';
import { scheduleDecisions } from './triggers.js';

/**
 * What the engine does with each accepted event, inside the ingest transaction (so it commits atomically with
 * the event): credit the decisions a goal or engagement rewards; when the customer reached the goal, cancel
 * the messages still queued for them (they leave the loop); schedule a decision for every signal that makes a
 * message action a candidate. Returns how many decisions were resolved.
 */
export const onEventApplied = async (
  w: StoreWriter,
  event: PathwiseEvent,
  applied: { profileId: string; entered: readonly string[] },
  ctx: { goal: GoalConfig | undefined; catalog: Catalog; now: number; newId: () => string },
): Promise<number> => {
  const resolved = await outcomesFromEvent(w, ctx.goal, event, applied.profileId);
  if (ctx.goal !== undefined && event.type === 'track' && event.event === ctx.goal.event) {
    await w.cancelDeliveries({ profileId: applied.profileId }, 'the customer reached the goal', ctx.now);
  }
  await scheduleDecisions(w, ctx.catalog, event, applied, { now: ctx.now, newId: ctx.newId });
  return resolved;
};
