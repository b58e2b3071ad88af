import type { ScoreParts, SparseFeatures } from '../domain/index.js';
import { meanProbability, sdProbability, type ArmPosterior } from '../learn/index.js';

/** The model as the pipeline sees it: a posterior per arm for a feature vector, and its version. */
export interface Scorer {
  posterior(arm: string, x: SparseFeatures): ArmPosterior;
  /**
   * Optional: `arms.map((arm) => posterior(arm, x))`, with the same results, faster for many arms (BanditModel
   * checks and prepares the features once). The pipeline uses it when present.
   */
  posteriors?(arms: readonly string[], x: SparseFeatures): ArmPosterior[];
  readonly version: number;
}

/** The posteriors of `arms` for `x`, in order: one batch call when the scorer has one. */
export const posteriorsOf = (model: Scorer, arms: readonly string[], x: SparseFeatures): ArmPosterior[] =>
  model.posteriors ? model.posteriors(arms, x) : arms.map((arm) => model.posterior(arm, x));

/** One option to arbitrate: an action, or doing nothing (actionId null). */
export interface Option {
  actionId: string | null;
  posterior: ArmPosterior;
  value: number;
  weight: number;
  cost: number;
  parts: ScoreParts;
}

/** Scores one option: P(goal) from the posterior, priority = P × value × weight − cost. */
export const scoreOption = (
  actionId: string | null,
  posterior: ArmPosterior,
  lever: { value: number; weight: number; cost: number },
): Option => {
  const probability = meanProbability(posterior);
  // Fields listed, not spread: every Option has the same shape, which keeps the code that reads them fast.
  return {
    actionId,
    posterior,
    value: lever.value,
    weight: lever.weight,
    cost: lever.cost,
    parts: {
      model: posterior.model,
      probability,
      uncertainty: sdProbability(posterior),
      observations: posterior.observations,
      value: lever.value,
      weight: lever.weight,
      cost: lever.cost,
      expectedValue: probability * lever.value * lever.weight - lever.cost,
      probabilityChosen: 0,
    },
  };
};
