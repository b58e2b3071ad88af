import type { Decision, Delivery, Signal, Timer } from '../domain/index.js';
import type { Store } from '../store/index.js';
import { isPathwiseError } from '../errors.js';
import { LAST_GOAL_TRAIT } from './rewards.js';
import type { DecisionService } from './decision-service.js';

/** How many alternatives the engine tries after actions that got no response, per original signal. */
export const MAX_FALLBACKS = 3;

export interface EngineDeps {
  store: Store;
  decisions: DecisionService;
  now: () => number;
  newId: () => string;
  onError: (err: unknown, what: string) => void;
}

/** The outbox row for a decision that chose a message action (web content is served, not sent). */
export const deliveryFor = (d: Decision, now: number): Delivery | undefined =>
  d.actionId === null || d.channel === null || d.channel === 'web'
    ? undefined
    : {
        id: d.id,
        decisionId: d.id,
        profileId: d.profileId,
        actionId: d.actionId,
        channel: d.channel,
        idempotencyKey: d.id,
        sendAt: d.sendAt ?? now,
        status: 'pending',
        attempts: 0,
        nextAttemptAt: d.sendAt ?? now,
        createdAt: now,
        updatedAt: now,
      };

/**
 * The timer loop of the engine: `decide` timers (written with the event that triggered them) become
 * decisions, and a decision that chose a message writes its outbox row in the same transaction, deleting the
 * timer; `response-window` timers re-decide without the action that got no answer. A timer is deleted only
 * in the transaction that handled it, so after a crash it fires again; a timer that came due while the
 * process was down fires on the first tick.
 */
export class Engine {
  private running: Promise<number> | undefined;

  constructor(private readonly deps: EngineDeps) {}

  /** Handles every due timer; returns how many were handled. Concurrent calls share one run. */
  tick(): Promise<number> {
    this.running ??= this.drain().finally(() => (this.running = undefined));
    return this.running;
  }

  private async drain(): Promise<number> {
    let handled = 0;
    for (;;) {
      const due = await this.deps.store.read.dueTimers(this.deps.now(), 200);
      if (due.length === 0) return handled;
      // Customers in parallel; one customer's timers in order (the decision service serialises per customer).
      await Promise.all(
        due.map((t) => this.fire(t).catch((err: unknown) => this.deps.onError(err, `timer ${t.id}`))),
      );
      handled += due.length;
      if (due.length < 200) return handled;
    }
  }

  private async fire(timer: Timer): Promise<void> {
    if (timer.kind === 'decide') {
      const signal = timer.payload.signal as unknown as Signal;
      await this.decideAndSchedule(timer, signal);
    } else if (timer.kind === 'response-window') {
      await this.responseWindowEnded(timer);
    } else {
      const never: never = timer.kind;
      throw new Error(`unknown timer kind ${String(never)}`);
    }
  }

  private async decideAndSchedule(timer: Timer, signal: Signal): Promise<void> {
    const decided = await this.deps.decisions
      .decideFor(timer.profileId, signal, async (w, d) => {
        if (!(await w.deleteTimer(timer.id))) throw new TimerGone(timer.id);
        const delivery = deliveryFor(d, this.deps.now());
        if (delivery !== undefined) await w.addDelivery(delivery);
      })
      .catch((err: unknown) => {
        // Erased between reading the profile and logging: the erasure deleted the timer too.
        if (err instanceof TimerGone || (isPathwiseError(err) && err.code === 'PW_ERR_PROFILE_ERASED'))
          return undefined;
        throw err;
      });
    if (decided === undefined) {
      // The profile is gone (merged or erased): drop the timer.
      await this.deps.store.write((w) => w.deleteTimer(timer.id));
    }
  }

  private async responseWindowEnded(timer: Timer): Promise<void> {
    const decisionId = String(timer.payload.decisionId);
    const tried = Array.isArray(timer.payload.tried) ? timer.payload.tried.map(String) : [];
    const [d, profile] = await Promise.all([
      this.deps.store.read.getDecision(decisionId),
      this.deps.store.read.getProfile(timer.profileId),
    ]);
    const responded = d?.outcomes.some((o) => o.kind === 'goal' || o.kind === 'engagement') ?? false;
    // A customer who reached the goal since (credited to this decision or not) has left the loop.
    const goal = profile?.computed[LAST_GOAL_TRAIT];
    const convertedSince = d !== undefined && goal?.kind === 'last' && goal.at !== null && goal.at >= d.at;
    if (
      d === undefined ||
      responded ||
      convertedSince ||
      d.resolution?.kind === 'goal' ||
      tried.length > MAX_FALLBACKS
    ) {
      await this.deps.store.write((w) => w.deleteTimer(timer.id));
      return;
    }
    const origin =
      d.signal.kind === 'redecide' ? d.signal.origin : d.signal.kind === 'placement' ? undefined : d.signal;
    await this.decideAndSchedule(timer, {
      kind: 'redecide',
      after: decisionId,
      exclude: tried,
      ...(origin === undefined ? {} : { origin }),
    });
  }
}

class TimerGone extends Error {
  constructor(id: string) {
    super(`timer ${id} was already handled`);
  }
}

/**
 * The response-window timer the dispatcher writes when a message went out. It carries the chain of actions
 * tried for the original signal (a re-decision's exclusions plus this action), so the next one skips them all.
 */
export const responseWindowTimer = (
  delivery: Delivery,
  decision: Pick<Decision, 'signal'>,
  windowMs: number,
  deps: { now: number; newId: () => string },
): Timer => ({
  id: deps.newId(),
  kind: 'response-window',
  profileId: delivery.profileId,
  dueAt: deps.now + windowMs,
  payload: {
    decisionId: delivery.decisionId,
    tried: [...(decision.signal.kind === 'redecide' ? decision.signal.exclude : []), delivery.actionId],
  },
});
