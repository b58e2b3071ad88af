import { DoublyRobust } from './doubly-robust.js';
import type { Estimate } from './estimate.js';
import { Ips } from './ips.js';
import { Moments } from './moments.js';
import { expectedUnder, probabilityOf, type Distribution, type Predictions } from './policy.js';
import type { LoggedRecord } from './record.js';
import { Snips } from './snips.js';

/** The three off-policy estimates of one target policy over the same rows. */
export interface OffPolicyEstimates {
  ips: Estimate;
  snips: Estimate;
  dr: Estimate;
}

/**
 * IPS, SNIPS and DR of one target policy, fed row by row. The reward model is the caller's, shared by every
 * policy evaluated over the same log: for each row, call `add` for every policy with q̂ as it was before the row,
 * then let the model learn the row (see evaluateOffPolicy).
 */
export class PolicyEvaluation {
  private constructor(
    private readonly ips: Ips,
    private readonly snips: Snips,
    private readonly dr: DoublyRobust,
  ) {}

  static empty(): PolicyEvaluation {
    return new PolicyEvaluation(new Ips(), new Snips(), new DoublyRobust());
  }

  /**
   * An evaluation that starts after `rows` rows in which the policy's action was never logged, and in which the
   * DR terms (the model's predictions for that action) had the moments `predictions`: how an "always a" policy
   * joins when action a first appears in the log, with the same figures as if it had been there from row 1.
   */
  static joining(rows: number, predictions: Moments): PolicyEvaluation {
    return new PolicyEvaluation(
      new Ips(Moments.zeros(rows)),
      Snips.afterZeros(rows),
      new DoublyRobust(predictions.copy()),
    );
  }

  add(record: LoggedRecord<unknown>, target: Distribution, q: Predictions): void {
    const w = probabilityOf(target, record.action) / record.propensity;
    this.ips.add(w, record.reward);
    this.snips.add(w, record.reward);
    this.dr.add(expectedUnder(target, q), w, record.reward, w === 0 ? 0 : q.of(record.action));
  }

  estimates(): OffPolicyEstimates {
    return { ips: this.ips.estimate(), snips: this.snips.estimate(), dr: this.dr.estimate() };
  }
}
