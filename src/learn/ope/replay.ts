import { normalInterval, type Estimate } from './estimate.js';
import { Moments } from './moments.js';

/**
 * The replay method (Li, Chu, Langford & Wang 2011, "Unbiased Offline Evaluation of Contextual-bandit-based News
 * Article Recommendation Algorithms", Algorithm 3): stream the log in order, ask the evaluated policy for its
 * choice in each row's context; rows where it differs from the logged action are skipped, matched rows count
 * (and are the only history the policy is told about). The value is the mean reward of the matched rows:
 *
 *   V̂_replay = Σ 1[πᵢ = aᵢ] rᵢ / Σ 1[πᵢ = aᵢ],
 *
 * with the interval V̂ ± 1.96·s/√m over the m matched rows. Unbiased for a policy that may learn as it goes when
 * the log was collected by the uniform random policy (any other logging policy biases it toward the actions it
 * favoured); about n/K rows match for K actions. `n` of the estimate is m. O(1) memory.
 */
export class Replay {
  private readonly matched = new Moments();
  private rows = 0;

  /** One logged row: whether the policy chose the logged action, and the reward (used only when it did). */
  add(match: boolean, reward: number): void {
    this.rows++;
    if (match) this.matched.add(reward);
  }

  /** Rows seen, matched or not. */
  get seen(): number {
    return this.rows;
  }

  estimate(): Estimate {
    return normalInterval(this.matched.mean, this.matched.standardError, this.matched.n);
  }
}
