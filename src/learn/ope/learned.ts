import type { SparseFeatures } from '../../domain/decision.js';
import type { BanditModel } from '../model.js';
import { meanProbability, sampleProbability } from '../posterior.js';
import type { Rng } from '../rng.js';
import type { Policy } from './policy.js';
import type { LoggedRecord } from './record.js';
import { Replay } from './replay.js';

/*
 * The engine's learning policy, composed as in Vowpal Wabbit: a scorer (the BanditModel's posterior of each
 * arm's reward probability in context x) wrapped by an explorer that turns scores into a choice (Thompson: one
 * posterior draw per arm, the best draw wins; greedy: the best posterior mean). Arms are the evaluation's action
 * labels, `arms[i]` being action index i. Every option here has value 1, weight 1 and cost 0, no exploration
 * bounds and no "do nothing": what the engine's arbitration reduces to when the log's actions are all there is.
 */

/** Thompson sampling (Thompson 1933; Chapelle & Li 2011): the index of the arm with the highest posterior draw. */
export const thompsonChoice = (
  model: BanditModel,
  arms: readonly string[],
  x: SparseFeatures,
  rng: Rng,
): number => {
  const posteriors = model.posteriors(arms, x);
  let best = -1;
  let bestDraw = -Infinity;
  for (let i = 0; i < posteriors.length; i++) {
    const draw = sampleProbability(posteriors[i] as (typeof posteriors)[number], rng);
    if (draw > bestDraw) {
      bestDraw = draw;
      best = i;
    }
  }
  return best;
};

/** Greedy: the index of the arm with the highest posterior mean probability (ties: the first). */
export const greedyChoice = (model: BanditModel, arms: readonly string[], x: SparseFeatures): number => {
  const posteriors = model.posteriors(arms, x);
  let best = -1;
  let bestMean = -Infinity;
  for (let i = 0; i < posteriors.length; i++) {
    const mean = meanProbability(posteriors[i] as (typeof posteriors)[number]);
    if (mean > bestMean) {
      bestMean = mean;
      best = i;
    }
  }
  return best;
};

/**
 * The frozen greedy policy over `arms` (a deterministic policy: π(a|x) = 1 for the chosen arm). The model must
 * not learn while the policy is evaluated, or the estimate is of a moving target.
 */
export const greedyPolicy =
  (model: BanditModel, arms: readonly string[]): Policy<SparseFeatures> =>
  (x) => ({ kind: 'point', action: greedyChoice(model, arms, x) });

/**
 * Replay of the learning policy (Li et al. 2011; see replay.ts): Thompson sampling over the arms known so far
 * chooses in each logged context; when it chose the logged action the row counts and the model learns its reward
 * (rewards in [0, 1]), otherwise the row is skipped and the policy never hears of it. `arms` may grow between
 * rows (actions join the catalog when they first appear in the log). Randomness only from `rng`.
 */
export class ReplayLearning {
  private readonly replay = new Replay();

  constructor(
    private readonly model: BanditModel,
    private readonly rng: Rng,
  ) {}

  add(record: LoggedRecord<SparseFeatures>, arms: readonly string[]): void {
    const choice = thompsonChoice(this.model, arms, record.context, this.rng);
    const match = choice === record.action;
    this.replay.add(match, record.reward);
    if (match) this.model.update(arms[choice] as string, record.context, record.reward);
  }

  estimate(): ReturnType<Replay['estimate']> {
    return this.replay.estimate();
  }
}
