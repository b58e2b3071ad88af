import { Moments } from './moments.js';
import { PolicyEvaluation, type OffPolicyEstimates } from './evaluation.js';
import type { Distribution } from './policy.js';
import type { LoggedRecord } from './record.js';
import type { RunningRewardModel } from './reward-model.js';

/**
 * The value of each action: the off-policy estimates of every "always a" policy, for the actions as they appear
 * in the log (the action set need not be known up front). An action first logged at row t joins with the figures
 * it would have had from row 1: its IPS and SNIPS terms were 0 before t, and its DR terms were the model's
 * prediction for an action never seen, ḡ (reward-model.ts), whose moments are kept for that. O(K) per row and
 * O(K) memory for K actions.
 */
export class ActionValues {
  private readonly evaluations: PolicyEvaluation[] = [];
  private readonly targets: Distribution[] = [];
  /** The DR terms of an action not logged yet: q̂ of an unseen action, row by row. */
  private readonly unseen = new Moments();

  /** One row, with q̂ as it was before the row; the caller lets the model learn the row afterwards. */
  add(record: LoggedRecord<unknown>, q: RunningRewardModel): void {
    while (this.evaluations.length <= record.action) {
      this.targets.push({ kind: 'point', action: this.evaluations.length });
      this.evaluations.push(PolicyEvaluation.joining(this.unseen.n, this.unseen));
    }
    const n = this.evaluations.length;
    for (let a = 0; a < n; a++) {
      (this.evaluations[a] as PolicyEvaluation).add(record, this.targets[a] as Distribution, q);
    }
    this.unseen.add(q.overall);
  }

  /** Actions seen so far. */
  get size(): number {
    return this.evaluations.length;
  }

  /** The estimates for action `a` (an index below `size`). */
  estimates(a: number): OffPolicyEstimates {
    const e = this.evaluations[a];
    if (e === undefined) throw new Error(`no action ${a} in the log`);
    return e.estimates();
  }
}
