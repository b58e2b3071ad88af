import { normalInterval, type Estimate } from './estimate.js';
import { Moments } from './moments.js';

/**
 * The logging policy's own value: the mean logged reward, (1/n) Σ rᵢ, with the interval mean ± 1.96·s/√n
 * (s the sample standard deviation of the rewards). Needs no propensities. Streaming, O(1) memory.
 */
export class OnPolicyMean {
  private readonly m = new Moments();

  add(reward: number): void {
    this.m.add(reward);
  }

  estimate(): Estimate {
    return normalInterval(this.m.mean, this.m.standardError, this.m.n);
  }
}
