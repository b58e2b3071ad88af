import type { Predictions } from './policy.js';

/** Pseudo-observations at the overall mean that each action's estimate starts from. */
const PRIOR_WEIGHT = 1;

/**
 * The reward model q̂ of the doubly robust estimator: per action, the mean reward logged for it so far, shrunk
 * toward the mean of every reward so far by one pseudo-observation:
 *
 *   q̂_t(a) = (S_a + k·ḡ_t) / (n_a + k),  k = 1,
 *
 * where S_a and n_a are the sum and count of rewards logged for a, and ḡ_t the mean of all rewards, over the rows
 * before t only (an action never seen is predicted at ḡ_t; 0 before the first row).
 *
 * Why this model: it is learned progressively, from earlier rows only, so q̂_t does not depend on row t's reward.
 * Each DR term then has conditional expectation V(π) given the past whatever q̂ is (the correction is unbiased
 * when the propensities are right), the terms are martingale differences around V(π), and the normal interval
 * from their sample variance is justified without cross-fitting (the "online" DR of Dudík et al. 2014; Kallus &
 * Uehara 2019). It is context-free on purpose: it costs O(1) per row and never overfits; a better q̂ only
 * narrows the interval, it does not move the estimate's expectation. Memory: two numbers per action.
 */
export class RunningRewardModel implements Predictions {
  private sums: number[] = [];
  private counts: number[] = [];
  private total = 0;
  private rows = 0;
  /** Σ_a S_a / (n_a + k) and Σ_a 1 / (n_a + k) over the actions seen, for meanOfFirst in O(1). */
  private sumShare = 0;
  private sumInverse = 0;

  /** ḡ: the mean of every reward learned so far (0 before any). */
  get overall(): number {
    return this.rows === 0 ? 0 : this.total / this.rows;
  }

  of(action: number): number {
    const n = this.counts[action] ?? 0;
    const s = this.sums[action] ?? 0;
    return (s + PRIOR_WEIGHT * this.overall) / (n + PRIOR_WEIGHT);
  }

  /** The mean of q̂(a) over actions 0 … k − 1 (actions not seen yet are at ḡ). */
  meanOfFirst(k: number): number {
    const seen = this.counts.length;
    if (k < seen) {
      let sum = 0;
      for (let a = 0; a < k; a++) sum += this.of(a);
      return sum / k;
    }
    const g = this.overall;
    const known = this.sumShare + PRIOR_WEIGHT * g * this.sumInverse;
    return (known + (k - seen) * g) / k;
  }

  /** Learns row t's reward, after every estimate has used q̂_t for row t. */
  learn(action: number, reward: number): void {
    while (this.counts.length <= action) {
      this.counts.push(0);
      this.sums.push(0);
      this.sumInverse += 1 / PRIOR_WEIGHT;
    }
    const n = this.counts[action] as number;
    const s = this.sums[action] as number;
    this.sumShare += (s + reward) / (n + 1 + PRIOR_WEIGHT) - s / (n + PRIOR_WEIGHT);
    this.sumInverse += 1 / (n + 1 + PRIOR_WEIGHT) - 1 / (n + PRIOR_WEIGHT);
    this.counts[action] = n + 1;
    this.sums[action] = s + reward;
    this.total += reward;
    this.rows++;
  }
}
