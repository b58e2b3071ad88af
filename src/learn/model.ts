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
  /** Scratch of posteriors(): the model is used from one thread. */
  private means = new Float64Array(64);
  private variances = new Float64Array(64);

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
   * the features are checked and prepared once, and each weight row read once for all arms
   * (see LogisticRegression.scoreInto).
   */
  posteriors(arms: readonly string[], x: SparseFeatures): ArmPosterior[] {
    const { minObservations } = this.settings;
    const n = arms.length;
    const out = new Array<ArmPosterior>(n);
    const contextual: string[] = [];
    const at: number[] = [];
    for (let i = 0; i < n; i++) {
      const b = this.betas.get(arms[i] as string);
      if (b.observations < minObservations) {
        out[i] = { model: 'beta', alpha: b.alpha, beta: b.beta, observations: b.observations };
      } else {
        contextual.push(arms[i] as string);
        at.push(i);
      }
    }
    // Like posterior(): features are only checked when some arm is on the logistic model.
    if (contextual.length === 0) return out;
    if (this.means.length < contextual.length) {
      this.means = new Float64Array(2 * contextual.length);
      this.variances = new Float64Array(2 * contextual.length);
    }
    const { means, variances } = this;
    this.logistic.scoreInto(contextual, x, means, variances);
    for (let k = 0; k < at.length; k++) {
      const i = at[k] as number;
      out[i] = {
        model: 'logistic',
        mean: means[k] as number,
        variance: variances[k] as number,
        observations: this.betas.get(arms[i] as string).observations,
      };
    }
    return out;
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
    const logistic = this.logistic;
    const arms = [...this.betas.arms.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([id, b]) => {
        const intercept = logistic.interceptOf(id);
        const index = logistic.arms.get(id) ?? 0; // every arm that learned has one (update sets both)
        return { id, index, alpha: b.alpha, beta: b.beta, observations: b.observations, intercept };
      });
    const { priorVariance } = logistic;
    const weights = { slot: [] as number[], mean: [] as number[], variance: [] as number[] };
    for (let i = 0; i < logistic.size; i++) {
      const mi = logistic.meanAt(i);
      const vi = logistic.varianceAt(i);
      if (mi === 0 && vi === priorVariance) continue;
      weights.slot.push(i);
      weights.mean.push(mi);
      weights.variance.push(vi);
    }
    return { format: SNAPSHOT_FORMAT, settings: { ...this.settings }, version: this.updates, arms, weights };
  }

  /** Rebuilds a model from `snapshot()` output (e.g. after JSON.parse). Throws an Error naming each bad field. */
  static fromSnapshot(input: unknown): BanditModel {
    const s = parseSnapshot(input);
    const model = new BanditModel(s.settings);
    const logistic = model.logistic;
    for (const arm of s.arms) {
      model.betas.arms.set(arm.id, { alpha: arm.alpha, beta: arm.beta, observations: arm.observations });
      logistic.setArmIndex(arm.id, arm.index);
      logistic.setIntercept(arm.id, arm.intercept);
    }
    s.weights.slot.forEach((slot, i) => {
      logistic.setSlot(slot, s.weights.mean[i] ?? 0, s.weights.variance[i] ?? logistic.priorVariance);
    });
    model.updates = s.version;
    return model;
  }
}
