/** One arm's Beta posterior over its reward probability, and how many rewards it has seen. */
export interface BetaArm {
  alpha: number;
  beta: number;
  observations: number;
}

/** The uniform prior Beta(1, 1): no opinion about a new arm's rate. */
export const BETA_PRIOR = { alpha: 1, beta: 1 } as const;

/**
 * Context-free Beta-Bernoulli arms (Thompson 1933; Chapelle & Li 2011, section 2). A young arm is scored from
 * this until the contextual model has seen enough of it: the Beta posterior is exact and honest about how little
 * is known, where the logistic model's Laplace approximation is poor on a handful of observations.
 * Fractional rewards (an engagement worth 0.3) add r to α and 1 − r to β, the usual soft-label extension.
 */
export class BetaBernoulli {
  /** Arms that have seen a reward, in first-seen order. Exposed for snapshots. */
  readonly arms = new Map<string, BetaArm>();

  /** The arm's posterior; the prior for an arm never updated. */
  get(arm: string): BetaArm {
    return this.arms.get(arm) ?? { ...BETA_PRIOR, observations: 0 };
  }

  /** Adds one reward in [0, 1]. */
  update(arm: string, reward: number): void {
    if (!(reward >= 0 && reward <= 1)) throw new Error(`reward must be a number in [0, 1], got ${reward}`);
    let s = this.arms.get(arm);
    if (!s) {
      s = { ...BETA_PRIOR, observations: 0 };
      this.arms.set(arm, s);
    }
    s.alpha += reward;
    s.beta += 1 - reward;
    s.observations += 1;
  }
}
