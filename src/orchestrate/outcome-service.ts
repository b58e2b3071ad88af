import type { GoalConfig } from '../config/index.js';
import { INTERNAL_SOURCE, type Outcome } from '../domain/index.js';
import { engagementReward } from '../learn/index.js';
import type { Store } from '../store/index.js';
import { PathwiseError } from '../errors.js';
import { outcomeBodySchema, parseBody } from './decide-request.js';
import { settleExpired } from './rewards.js';
import type { Learner } from './learner.js';

/** Impressions are `Placement Viewed`; clicks, conversions and dismissals `Decision Feedback` with their type. */
export const PLACEMENT_VIEWED = 'Placement Viewed';
export const DECISION_FEEDBACK = 'Decision Feedback';

const feedbackEvent = (
  profileId: string,
  decisionId: string,
  body: { type: string; value?: number },
  cause: string,
  now: number,
) => ({
  messageId: `feedback:${cause}:${decisionId}:${body.type}`,
  source: INTERNAL_SOURCE,
  type: 'track' as const,
  event: body.type === 'impression' ? PLACEMENT_VIEWED : DECISION_FEEDBACK,
  timestamp: now,
  receivedAt: now,
  properties: {
    decisionId,
    ...(body.type === 'impression' ? {} : { type: body.type }),
    ...(body.value === undefined ? {} : { value: body.value }),
  },
  traits: {},
  context: {},
  profileId,
});

export type OutcomeResult =
  | { status: 'recorded'; decisionId: string; resolved: boolean }
  | { status: 'duplicate'; decisionId: string }
  | { status: 'already-resolved'; decisionId: string };

/**
 * Outcomes that do not arrive as events: explicit feedback through the API, and the sweep that settles
 * decisions whose attribution window ended without the goal. Both teach the model through the reward log.
 */
export class OutcomeService {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<number> | undefined;

  constructor(
    private goal: GoalConfig | undefined,
    private readonly deps: { store: Store; learner: Learner; now: () => number; newId: () => string },
  ) {}

  reconfigure(goal: GoalConfig | undefined): void {
    this.goal = goal;
  }

  /** `POST /v1/decisions/:id/outcome`. */
  async record(source: string, decisionId: string, raw: unknown): Promise<OutcomeResult> {
    const body = parseBody(outcomeBodySchema, raw, 'PW_ERR_OUTCOME_INVALID');
    const goal = this.goal;
    const engagement = goal?.engagement.find((e) => e.name === body.type);
    const builtIn = ['conversion', 'dismiss', 'impression'];
    if (!builtIn.includes(body.type) && engagement === undefined) {
      const names = [...builtIn, ...(goal?.engagement.map((e) => e.name) ?? [])];
      throw new PathwiseError(
        'PW_ERR_OUTCOME_INVALID',
        `type: "${body.type}" is not one of ${names.join(', ')}`,
        {
          field: 'type',
        },
      );
    }
    const now = this.deps.now();
    const cause = `${source}:${body.messageId ?? `outcome-${this.deps.newId()}`}`;
    const result = await this.deps.store.write(async (w): Promise<OutcomeResult> => {
      const d = await w.getDecision(decisionId);
      if (d === undefined) throw new PathwiseError('PW_ERR_DECISION_NOT_FOUND', JSON.stringify(decisionId));
      // Every report is an event on the customer's timeline (once per messageId), whatever it earns.
      const event = feedbackEvent(d.profileId, decisionId, body, cause, now);
      if (await w.hasMessage(event.source, event.messageId)) return { status: 'duplicate', decisionId };
      await w.appendEvent(event);
      // An impression earns nothing by itself: it says the content was seen.
      if (body.type === 'impression') return { status: 'recorded', decisionId, resolved: false };
      if (d.resolution !== undefined) return { status: 'already-resolved', decisionId };
      let outcome: Outcome;
      if (body.type === 'conversion') {
        const value =
          body.value ??
          (goal === undefined ? 1 : typeof goal.value === 'number' ? goal.value : goal.value.default);
        outcome = { decisionId, at: now, kind: 'goal', reward: 1, value, cause };
      } else if (body.type === 'dismiss') {
        outcome = { decisionId, at: now, kind: 'none', reward: 0, value: 0, cause };
      } else {
        outcome = {
          decisionId,
          at: now,
          kind: 'engagement',
          reward: engagement?.weight ?? 0,
          value: 0,
          cause,
        };
      }
      if (!(await w.addOutcome(outcome))) return { status: 'duplicate', decisionId };
      if (body.type === 'conversion') {
        // Held for the window's end, as goal events are (goal.learnAt).
        if (goal?.learnAt === 'window-end') return { status: 'recorded', decisionId, resolved: false };
        await w.resolveDecision(decisionId, { reward: 1, value: outcome.value, at: now, kind: 'goal' });
        return { status: 'recorded', decisionId, resolved: true };
      }
      if (body.type === 'dismiss') {
        // A dismissal ends the decision: what it earned is a conversion held for the window's end
        // (goal.learnAt), or else whatever engagement came before it.
        const held = d.outcomes.find((o) => o.kind === 'goal');
        if (held !== undefined) {
          await w.resolveDecision(decisionId, { reward: 1, value: held.value, at: now, kind: 'goal' });
          return { status: 'recorded', decisionId, resolved: true };
        }
        const reward = engagementReward(d.outcomes);
        await w.resolveDecision(decisionId, {
          reward,
          value: 0,
          at: now,
          kind: reward > 0 ? 'engagement' : 'none',
        });
        return { status: 'recorded', decisionId, resolved: true };
      }
      return { status: 'recorded', decisionId, resolved: false };
    });
    if (result.status === 'recorded' && result.resolved) await this.deps.learner.catchUp();
    return result;
  }

  /** Settles every decision whose attribution window has ended; returns how many were settled. */
  sweep(): Promise<number> {
    this.sweeping ??= (async () => {
      let settled = 0;
      try {
        for (;;) {
          const now = this.deps.now();
          const expired = await this.deps.store.read.expiredDecisions(now, 500);
          if (expired.length === 0) break;
          settled += await this.deps.store.write(async (w) => {
            let n = 0;
            for (const d of expired) if (await settleExpired(w, d.id, now)) n++;
            return n;
          });
          if (expired.length < 500) break;
        }
        if (settled > 0) await this.deps.learner.catchUp();
        return settled;
      } finally {
        this.sweeping = undefined;
      }
    })();
    return this.sweeping;
  }

  /** Sweeps every `intervalMs` until stopped (errors are reported and retried at the next interval). */
  start(intervalMs: number, onError: (err: unknown) => void): void {
    if (intervalMs <= 0 || this.timer !== undefined) return;
    this.timer = setInterval(() => this.sweep().catch(onError), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
  }
}
