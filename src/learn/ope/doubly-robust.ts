import { normalInterval, type Estimate } from './estimate.js';
import { Moments } from './moments.js';

/**
 * Doubly robust (Dudík, Langford & Li 2011, "Doubly Robust Policy Evaluation and Learning"):
 *
 *   V̂_DR = (1/n) Σ [ Σ_a π(a|xᵢ) q̂ᵢ(xᵢ, a)  +  wᵢ (rᵢ − q̂ᵢ(xᵢ, aᵢ)) ],   wᵢ = π(aᵢ | xᵢ) / pᵢ,
 *
 * the reward model's prediction for the target policy plus an importance-weighted correction of its error on the
 * logged action. Unbiased if either the propensities or q̂ are right; with a decent q̂ its variance is below
 * IPS's. q̂ᵢ must be learned from rows before i only (see reward-model.ts), which keeps the terms martingale
 * differences and the interval V̂ ± 1.96·s/√n (s the sample standard deviation of the terms) honest.
 * Streaming, O(1) memory.
 */
export class DoublyRobust {
  private readonly m: Moments;

  constructor(from?: Moments) {
    this.m = from ?? new Moments();
  }

  /**
   * One row: `expected` = Σ_a π(a|x) q̂(x, a), `weight` = π(a|x)/p of the logged action, `reward`, and
   * `predicted` = q̂(x, a) for the logged action.
   */
  add(expected: number, weight: number, reward: number, predicted: number): void {
    this.m.add(weight === 0 ? expected : expected + weight * (reward - predicted));
  }

  estimate(): Estimate {
    return normalInterval(this.m.mean, this.m.standardError, this.m.n);
  }

  copy(): DoublyRobust {
    return new DoublyRobust(this.m.copy());
  }
}
