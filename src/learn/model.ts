import type { SparseFeatures } from '../domain/decision.js';
import { BetaBernoulli } from './beta-bernoulli.js';
import { LogisticRegression } from './logistic.js';
import type { ArmPosterior } from './posterior.js';
import {
  MAX_FEATURE_BITS,
  SNAPSHOT_FORMAT,
  parseSnapshot,
  type ModelSettings,
  type ModelSnapshot,
} from './snapshot.js';

/**
 * The learner behind decisions: for each arm (an action id, or NOTHING for doing nothing, learned like any other)
 * a posterior over its reward probability in a given context. Two estimates are kept, both updated with every
 * reward: a context-free Beta-Bernoulli, used while the arm has fewer than `minObservations` observations, and a
 * contextual logistic model (learn/logistic.ts), used after. The Beta estimate is exact and wide for a young arm,
 * so Thompson sampling explores it honestly; the logistic one personalises once there is data to personalise.
 */
export class BanditModel {
  readonly settings: Readonly<ModelSettings>;
  private readonly logistic: LogisticRegression;
  private readonly betas = new BetaBernoulli();
  private updates = 0;

  constructor(settings: ModelSettings) {
    const { featureBits, priorVariance, minObservations } = settings;
    if (!Number.isInteger(featureBits) || featureBits < 1 || featureBits > MAX_FEATURE_BITS) {
      throw new Error(`featureBits must be an integer from 1 to ${MAX_FEATURE_BITS}, got ${featureBits}`);
    }
    if (!Number.isInteger(minObservations) || minObservations < 0) {
      throw new Error(`minObservations must be a non-negative integer, got ${minObservations}`);
    }
    this.settings = Object.freeze({ featureBits, priorVariance, minObservations });
    this.logistic = new LogisticRegression({ featureBits, priorVariance });
  }

  /** The arm's posterior for context `x` (features hashed with this model's featureBits). */
  posterior(arm: string, x: SparseFeatures): ArmPosterior {
    const b = this.betas.get(arm);
    if (b.observations < this.settings.minObservations) return { model: 'beta', ...b };
    const { mean, variance } = this.logistic.score(arm, x);
    return { model: 'logistic', mean, variance, observations: b.observations };
  }

  /**
   * `posterior(arm, x)` for each of `arms`, in order, with the same results: for a decision over many options,
   * the features are checked and prepared once rather than once per arm (see LogisticRegression.scoreAll).
   */
  posteriors(arms: readonly string[], x: SparseFeatures): ArmPosterior[] {
    const { minObservations } = this.settings;
    const betas = arms.map((arm) => this.betas.get(arm));
    const contextual: string[] = [];
    betas.forEach((b, i) => {
      if (b.observations >= minObservations) contextual.push(arms[i] as string);
    });
    // Like posterior(): features are only checked when some arm is on the logistic model.
    const scores = contextual.length > 0 ? this.logistic.scoreAll(contextual, x) : [];
    let k = 0;
    return betas.map((b): ArmPosterior => {
      if (b.observations < minObservations) return { model: 'beta', ...b };
      const { mean, variance } = scores[k++] as { mean: number; variance: number };
      return { model: 'logistic', mean, variance, observations: b.observations };
    });
  }

  /** Learns one reward in [0, 1] for `arm` in context `x`. Throws, changing nothing, on a bad reward or features. */
  update(arm: string, x: SparseFeatures, reward: number): void {
    this.logistic.update(arm, x, reward); // validates everything before changing anything
    this.betas.update(arm, reward);
    this.updates++;
  }

  /** Whether this model was built with these settings (a snapshot under other settings must be relearned). */
  settingsMatch(settings: ModelSettings): boolean {
    const s = this.settings;
    return (
      s.featureBits === settings.featureBits &&
      s.priorVariance === settings.priorVariance &&
      s.minObservations === settings.minObservations
    );
  }

  /** Rewards seen for `arm`. */
  observations(arm: string): number {
    return this.betas.get(arm).observations;
  }

  /** Updates applied since the model was created (snapshots keep it): monotonic, the same for the same history. */
  get version(): number {
    return this.updates;
  }

  /** A JSON-serialisable copy: arms sorted by id, and only the weight slots that moved from the prior. */
  snapshot(): ModelSnapshot {
    const arms = [...this.betas.arms.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([id, b]) => {
        const i = this.logistic.intercepts.get(id);
        const intercept = {
          mean: i?.mean ?? 0,
          precision: i?.precision ?? this.logistic.interceptPriorPrecision,
        };
        return { id, alpha: b.alpha, beta: b.beta, observations: b.observations, intercept };
      });
    const logistic = this.logistic;
    const { priorPrecision } = logistic;
    const weights = { slot: [] as number[], mean: [] as number[], precision: [] as number[] };
    for (let i = 0; i < logistic.size; i++) {
      const mi = logistic.meanAt(i);
      const qi = logistic.precisionAt(i);
      if (mi === 0 && qi === priorPrecision) continue;
      weights.slot.push(i);
      weights.mean.push(mi);
      weights.precision.push(qi);
    }
    return { format: SNAPSHOT_FORMAT, settings: { ...this.settings }, version: this.updates, arms, weights };
  }

  /** Rebuilds a model from `snapshot()` output (e.g. after JSON.parse). Throws an Error naming each bad field. */
  static fromSnapshot(input: unknown): BanditModel {
    const s = parseSnapshot(input);
    const model = new BanditModel(s.settings);
    for (const arm of s.arms) {
      model.betas.arms.set(arm.id, { alpha: arm.alpha, beta: arm.beta, observations: arm.observations });
      model.logistic.intercepts.set(arm.id, { ...arm.intercept });
    }
    const logistic = model.logistic;
    s.weights.slot.forEach((slot, i) => {
      logistic.setSlot(slot, s.weights.mean[i] ?? 0, s.weights.precision[i] ?? logistic.priorPrecision);
    });
    model.updates = s.version;
    return model;
  }
}
