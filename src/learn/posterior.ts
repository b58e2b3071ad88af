import { beta, normal, type Rng } from './rng.js';
import { sigmoid } from './sigmoid.js';

/**
 * What the model believes about one arm's probability of reward, for one customer.
 * - `logistic`: the score z = w·x under the diagonal Gaussian posterior is itself Gaussian, z ~ N(mean, variance)
 *   on the logit scale (`variance` = Σ x_i² / q_i). One normal draw per Thompson sample, however many features.
 * - `beta`: a Beta(alpha, beta) over the probability itself (young arms, before the contextual model takes over).
 * `observations` is how many rewards the arm has seen.
 */
export type ArmPosterior =
  | { model: 'logistic'; mean: number; variance: number; observations: number }
  | { model: 'beta'; alpha: number; beta: number; observations: number };

/**
 * Posterior mean probability. Logistic: the probit approximation E[σ(z)] ≈ σ(μ / √(1 + πσ²/8)) (MacKay 1992,
 * "The evidence framework applied to classification networks"), which shrinks uncertain scores toward 0.5
 * instead of reporting σ(μ), the probability of the most likely weights. Beta: α / (α + β).
 */
export const meanProbability = (p: ArmPosterior): number => {
  switch (p.model) {
    case 'logistic':
      return sigmoid(p.mean / Math.sqrt(1 + (Math.PI * p.variance) / 8));
    case 'beta':
      return p.alpha / (p.alpha + p.beta);
    default:
      return unreachable(p);
  }
};

/**
 * Posterior standard deviation of the probability. Logistic: the delta method, σ'(μ)·√variance = p(1 − p)·sd(z)
 * with p = σ(μ); it understates the spread when sd(z) is large, which only matters for arms with little data,
 * and those are on the (exact) Beta estimate. Beta: exact, √(αβ / ((α + β)²(α + β + 1))).
 */
export const sdProbability = (p: ArmPosterior): number => {
  switch (p.model) {
    case 'logistic': {
      const q = sigmoid(p.mean);
      return q * (1 - q) * Math.sqrt(p.variance);
    }
    case 'beta': {
      const n = p.alpha + p.beta;
      return Math.sqrt((p.alpha * p.beta) / (n * n * (n + 1)));
    }
    default:
      return unreachable(p);
  }
};

/** One Thompson sample of the probability (Thompson 1933; Chapelle & Li 2011): σ(μ + √variance·N(0,1)) or a Beta draw. */
export const sampleProbability = (p: ArmPosterior, rng: Rng): number => {
  switch (p.model) {
    case 'logistic':
      return sigmoid(p.mean + Math.sqrt(p.variance) * normal(rng));
    case 'beta':
      return beta(rng, p.alpha, p.beta);
    default:
      return unreachable(p);
  }
};

const unreachable = (p: never): never => {
  throw new Error(`unknown posterior model: ${JSON.stringify(p)}`);
};
