import { normalInterval, type Estimate } from './estimate.js';
import { Moments } from './moments.js';

/**
 * Inverse propensity scoring (Horvitz & Thompson 1952; for bandits, e.g. Dudík, Langford & Li 2011):
 *
 *   V̂_IPS = (1/n) Σ wᵢ rᵢ,   wᵢ = π(aᵢ | xᵢ) / pᵢ,
 *
 * where aᵢ is the logged action, pᵢ its logging propensity in (0, 1] and π the target policy. Unbiased when the
 * propensities are right and the logging policy covers every action π takes. Interval: V̂ ± 1.96·s/√n, s the
 * sample standard deviation of the terms wᵢrᵢ; with heavy-tailed weights it is wide, and the normal
 * approximation is poor. Streaming: add one row at a time, O(1) memory.
 */
export class Ips {
  private readonly m: Moments;

  constructor(from?: Moments) {
    this.m = from ?? new Moments();
  }

  /** One row: importance weight w = π(a|x)/p and reward r. */
  add(weight: number, reward: number): void {
    this.m.add(weight === 0 ? 0 : weight * reward);
  }

  estimate(): Estimate {
    return normalInterval(this.m.mean, this.m.standardError, this.m.n);
  }

  copy(): Ips {
    return new Ips(this.m.copy());
  }
}
