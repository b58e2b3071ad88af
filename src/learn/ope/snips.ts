import { normalInterval, type Estimate } from './estimate.js';
import { WeightedMoments } from './moments.js';

/**
 * Self-normalised IPS (Hesterberg 1995; Swaminathan & Joachims 2015, "The Self-Normalized Estimator for
 * Counterfactual Learning"):
 *
 *   V̂_SNIPS = Σ wᵢ rᵢ / Σ wᵢ,   wᵢ = π(aᵢ | xᵢ) / pᵢ.
 *
 * Slightly biased, but always within the range of the observed rewards and far steadier than IPS when a few
 * weights are huge. Interval by the delta method for a ratio of means:
 *
 *   se² = Σ wᵢ² (rᵢ − V̂)² / (Σ wᵢ)²,
 *
 * computed from streamed sums: Σw and Σwr for the value, and West's weighted moments of r under weights w² for
 * the numerator (Σ w²(r − V̂)² = Σ w²(r − m₂)² + Σw² · (m₂ − V̂)², m₂ the w²-weighted mean), so nothing cancels.
 * NaN when no row has a positive weight (the target policy never agrees with the log). O(1) memory.
 */
export class Snips {
  private rows = 0;
  private sumW = 0;
  private sumWR = 0;
  private readonly squared = new WeightedMoments();

  add(weight: number, reward: number): void {
    this.rows++;
    if (weight === 0) return;
    this.sumW += weight;
    this.sumWR += weight * reward;
    this.squared.add(reward, weight * weight);
  }

  /** Starts as if `rows` rows of weight 0 had been added (a policy that could not have logged any of them). */
  static afterZeros(rows: number): Snips {
    const s = new Snips();
    s.rows = rows;
    return s;
  }

  /** Σ wᵢ, over n: 1 in expectation when the propensities are right (a check on them). */
  get meanWeight(): number {
    return this.rows === 0 ? NaN : this.sumW / this.rows;
  }

  estimate(): Estimate {
    if (this.sumW === 0) return normalInterval(NaN, NaN, this.rows);
    const value = this.sumWR / this.sumW;
    const se = Math.sqrt(this.squared.squaresAround(value)) / this.sumW;
    // One row with weight says nothing about the spread.
    return normalInterval(value, this.rows < 2 ? NaN : se, this.rows);
  }
}
