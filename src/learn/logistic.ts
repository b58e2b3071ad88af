import type { SparseFeatures } from '../domain/decision.js';
import { biasIndex } from './features.js';
import { crossSlot, hashString } from './hash.js';
import { sigmoid } from './sigmoid.js';

/** The score z = w·x of one arm for one context under the posterior: z ~ N(mean, variance), logit scale. */
export interface LogitScore {
  mean: number;
  variance: number;
}

/** One arm's intercept: posterior mean and precision. */
export interface Intercept {
  mean: number;
  precision: number;
}

/**
 * The intercept's prior is 10× wider than the other weights'. Base rates sit far from 0.5 (a 2% conversion rate
 * is a logit of −3.9): under the weights' prior the intercept would start ~4 sd from its answer and drag the
 * other weights along while it crawls there. The wide prior lets it take the base rate within a few dozen
 * observations and leaves the context weights to explain deviations from it.
 */
export const INTERCEPT_PRIOR_SCALE = 10;

/** The Newton solve below stops when the step is this small (t is a residual in [r − 1, r]). */
const NEWTON_TOLERANCE = 1e-12;
const NEWTON_MAX_STEPS = 30;

/**
 * Online Bayesian logistic regression with a diagonal Gaussian posterior (the Laplace approximation of
 * Chapelle & Li 2011, "An Empirical Evaluation of Thompson Sampling", Algorithm 3, one observation per batch).
 * One table of 2^featureBits weights serves every arm: feature slot i of arm a lives at
 * `crossSlot(i, hash(a)) & mask`, so arms learn separately without a table per arm. Each arm's intercept (the
 * `bias` feature) is kept apart, per arm, with a wider prior (see INTERCEPT_PRIOR_SCALE) and no collisions.
 * Memory: two Float64Arrays of 2^featureBits (4 MiB at the default 18 bits).
 */
export class LogisticRegression {
  /** Posterior means m, one per slot (prior 0). Exposed for snapshots. */
  readonly m: Float64Array;
  /** Posterior precisions q, one per slot (prior 1 / priorVariance). Exposed for snapshots. */
  readonly q: Float64Array;
  /** Per-arm intercepts; an arm without one is at its prior. Exposed for snapshots. */
  readonly intercepts = new Map<string, Intercept>();
  readonly priorPrecision: number;
  readonly interceptPriorPrecision: number;
  private readonly mask: number;
  private readonly bias: number;
  private readonly armHashes = new Map<string, number>();
  private slots = new Int32Array(256);

  constructor(settings: { featureBits: number; priorVariance: number }) {
    const { featureBits, priorVariance } = settings;
    if (!Number.isInteger(featureBits) || featureBits < 1 || featureBits > 26) {
      throw new Error(`featureBits must be an integer from 1 to 26, got ${featureBits}`);
    }
    if (!(priorVariance > 0) || !Number.isFinite(priorVariance)) {
      throw new Error(`priorVariance must be a positive finite number, got ${priorVariance}`);
    }
    const size = 2 ** featureBits;
    this.mask = size - 1;
    this.bias = biasIndex(featureBits);
    this.priorPrecision = 1 / priorVariance;
    this.interceptPriorPrecision = 1 / (INTERCEPT_PRIOR_SCALE * priorVariance);
    this.m = new Float64Array(size);
    this.q = new Float64Array(size).fill(this.priorPrecision);
  }

  /** The posterior of z = w·x for `arm`: mean Σ m_i x_i, variance Σ x_i² / q_i (logit scale). */
  score(arm: string, x: SparseFeatures): LogitScore {
    this.check(x);
    const h = this.armHash(arm);
    const icpt = this.intercepts.get(arm);
    const { idx, val } = x;
    let mean = 0;
    let variance = 0;
    for (let i = 0; i < idx.length; i++) {
      const j = idx[i] ?? 0;
      const v = val[i] ?? 0;
      if (j === this.bias) {
        mean += (icpt?.mean ?? 0) * v;
        variance += (v * v) / (icpt?.precision ?? this.interceptPriorPrecision);
      } else {
        const slot = crossSlot(j, h) & this.mask;
        mean += (this.m[slot] ?? 0) * v;
        variance += (v * v) / (this.q[slot] ?? 1);
      }
    }
    return { mean, variance };
  }

  /**
   * Folds in one observation with soft label `reward` in [0, 1]. The MAP of prior × likelihood lies on the line
   * w = m + t·Σx (Σ = diag(1/q)), where t = r − σ(w·x); writing μ = m·x and s = xᵀΣx, t solves the 1-D equation
   * t − r + σ(μ + t·s) = 0, increasing in t with its root in (r − 1, r): a safeguarded Newton solve. Then each
   * touched precision grows by x_i²·p(1 − p) at the MAP p (Chapelle & Li's update). Slots that collide within one
   * vector are treated as independent in the precision update: rare, and conservative only in the variance.
   */
  update(arm: string, x: SparseFeatures, reward: number): void {
    if (!(reward >= 0 && reward <= 1)) throw new Error(`reward must be a number in [0, 1], got ${reward}`);
    this.check(x);
    const { idx, val } = x;
    const n = idx.length;
    if (this.slots.length < n) this.slots = new Int32Array(2 ** Math.ceil(Math.log2(n)));
    const slots = this.slots;
    const h = this.armHash(arm);
    let icpt = this.intercepts.get(arm);
    if (!icpt) {
      icpt = { mean: 0, precision: this.interceptPriorPrecision };
      this.intercepts.set(arm, icpt);
    }
    let mu = 0;
    let s = 0;
    for (let i = 0; i < n; i++) {
      const j = idx[i] ?? 0;
      const v = val[i] ?? 0;
      if (j === this.bias) {
        slots[i] = -1;
        mu += icpt.mean * v;
        s += (v * v) / icpt.precision;
      } else {
        const slot = crossSlot(j, h) & this.mask;
        slots[i] = slot;
        mu += (this.m[slot] ?? 0) * v;
        s += (v * v) / (this.q[slot] ?? 1);
      }
    }
    const t = solveResidual(mu, s, reward);
    const p = sigmoid(mu + t * s);
    const curvature = p * (1 - p);
    // Means first, with the prior precisions; then the precisions.
    for (let i = 0; i < n; i++) {
      const slot = slots[i] ?? -1;
      const v = val[i] ?? 0;
      if (slot < 0) icpt.mean += (t * v) / icpt.precision;
      else this.m[slot] = (this.m[slot] ?? 0) + (t * v) / (this.q[slot] ?? 1);
    }
    for (let i = 0; i < n; i++) {
      const slot = slots[i] ?? -1;
      const v = val[i] ?? 0;
      if (slot < 0) icpt.precision += v * v * curvature;
      else this.q[slot] = (this.q[slot] ?? 1) + v * v * curvature;
    }
  }

  private armHash(arm: string): number {
    let h = this.armHashes.get(arm);
    if (h === undefined) {
      h = hashString(arm);
      this.armHashes.set(arm, h);
    }
    return h;
  }

  /** Features from elsewhere (a decision log, a client) are checked: one NaN would poison every weight it touches. */
  private check(x: SparseFeatures): void {
    const { idx, val } = x;
    if (idx.length !== val.length) {
      throw new Error(`features: idx has ${idx.length} entries but val has ${val.length}`);
    }
    for (let i = 0; i < idx.length; i++) {
      const j = idx[i];
      const v = val[i];
      if (j === undefined || !Number.isInteger(j) || j < 0 || j > this.mask) {
        throw new Error(
          `features.idx[${i}] = ${j}: must be an integer from 0 to ${this.mask} (hashed with the model's featureBits)`,
        );
      }
      if (v === undefined || !Number.isFinite(v))
        throw new Error(`features.val[${i}] = ${v}: must be finite`);
    }
  }
}

/** Solves t − r + σ(μ + t·s) = 0 for t in (r − 1, r): Newton steps, falling back to bisection outside the bracket. */
const solveResidual = (mu: number, s: number, r: number): number => {
  let lo = r - 1;
  let hi = r;
  let t = 0;
  for (let k = 0; k < NEWTON_MAX_STEPS; k++) {
    const p = sigmoid(mu + t * s);
    const f = t - r + p;
    if (f === 0) return t;
    if (f > 0) hi = t;
    else lo = t;
    let next = t - f / (1 + s * p * (1 - p));
    if (!(next >= lo && next <= hi)) next = (lo + hi) / 2;
    if (Math.abs(next - t) < NEWTON_TOLERANCE) return next;
    t = next;
  }
  return t;
};
