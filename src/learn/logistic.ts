import type { SparseFeatures } from '../domain/decision.js';
import { biasIndex } from './features.js';
import { crossMix, fmix32, hashString } from './hash.js';
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

/** Grows a scratch array to hold at least n entries (a power of two, so it settles after a few calls). */
const capacity = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(n, 256)));

/**
 * Online Bayesian logistic regression with a diagonal Gaussian posterior (the Laplace approximation of
 * Chapelle & Li 2011, "An Empirical Evaluation of Thompson Sampling", Algorithm 3, one observation per batch).
 * One table of 2^featureBits weights serves every arm: feature slot i of arm a lives at
 * `crossSlot(i, hash(a)) & mask`, so arms learn separately without a table per arm. Each arm's intercept (the
 * `bias` feature) is kept apart, per arm, with a wider prior (see INTERCEPT_PRIOR_SCALE) and no collisions.
 * Memory: one Float64Array of 2 × 2^featureBits (4 MiB at the default 18 bits), the mean and precision of a slot
 * side by side, so scoring a feature reads one cache line instead of two.
 */
export class LogisticRegression {
  /** Per-arm intercepts; an arm without one is at its prior. Exposed for snapshots. */
  readonly intercepts = new Map<string, Intercept>();
  readonly priorPrecision: number;
  readonly interceptPriorPrecision: number;
  /** Number of weight slots (2^featureBits). */
  readonly size: number;
  /**
   * Slot s: posterior mean m_s at 2s (prior 0), posterior precision q_s at 2s + 1 (prior 1 / priorVariance).
   * Then one spare pair at `interceptSlot`, where scoring puts the current arm's intercept.
   */
  private readonly w: Float64Array;
  private readonly interceptSlot: number;
  private readonly mask: number;
  private readonly bias: number;
  private readonly armHashes = new Map<string, number>();
  // The feature vector being scored or learned, checked once (see `load`): slots, values, squared values and
  // each slot's arm-independent hash half (crossMix). Reused across calls: the model is used from one thread.
  private n = 0;
  private idx = new Int32Array(capacity(0));
  private val = new Float64Array(capacity(0));
  private sq = new Float64Array(capacity(0));
  private mix = new Int32Array(capacity(0));
  private slots = new Int32Array(capacity(0));
  /** Where the bias feature is in the loaded vector (once, from hashFeatures; a vector from elsewhere may repeat it). */
  private biasAt = new Int32Array(capacity(0));
  private biases = 0;

  constructor(settings: { featureBits: number; priorVariance: number }) {
    const { featureBits, priorVariance } = settings;
    if (!Number.isInteger(featureBits) || featureBits < 1 || featureBits > 26) {
      throw new Error(`featureBits must be an integer from 1 to 26, got ${featureBits}`);
    }
    if (!(priorVariance > 0) || !Number.isFinite(priorVariance)) {
      throw new Error(`priorVariance must be a positive finite number, got ${priorVariance}`);
    }
    const size = 2 ** featureBits;
    this.size = size;
    this.mask = size - 1;
    this.bias = biasIndex(featureBits);
    this.priorPrecision = 1 / priorVariance;
    this.interceptPriorPrecision = 1 / (INTERCEPT_PRIOR_SCALE * priorVariance);
    this.interceptSlot = 2 * size;
    this.w = new Float64Array(2 * size + 2);
    for (let s = 1; s < 2 * size; s += 2) this.w[s] = this.priorPrecision;
  }

  /** Posterior mean of weight slot `slot` (0 ≤ slot < size). For snapshots. */
  meanAt(slot: number): number {
    return this.w[2 * slot] ?? 0;
  }

  /** Posterior precision of weight slot `slot`. For snapshots. */
  precisionAt(slot: number): number {
    return this.w[2 * slot + 1] ?? this.priorPrecision;
  }

  /** Sets weight slot `slot` (restoring a snapshot). */
  setSlot(slot: number, mean: number, precision: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot > this.mask) throw new Error(`slot ${slot} out of range`);
    this.w[2 * slot] = mean;
    this.w[2 * slot + 1] = precision;
  }

  /** The posterior of z = w·x for `arm`: mean Σ m_i x_i, variance Σ x_i² / q_i (logit scale). */
  score(arm: string, x: SparseFeatures): LogitScore {
    this.load(x);
    return this.scoreLoaded(arm);
  }

  /**
   * `score(arm, x)` for each of `arms`, in order, with the same results: the features are checked and prepared
   * once, then each arm costs one pass over them.
   */
  scoreAll(arms: readonly string[], x: SparseFeatures): LogitScore[] {
    this.load(x);
    const out: LogitScore[] = [];
    for (let a = 0; a < arms.length; a++) out.push(this.scoreLoaded(arms[a] as string));
    return out;
  }

  /**
   * Scores the loaded vector for `arm`. Two passes: the arm's slot for every feature first (pure arithmetic),
   * then the sums over the table, whose independent reads the CPU can overlap. The intercept goes through a
   * spare slot at the end of the table (set to this arm's), so neither pass branches. The sums run in feature
   * order with the same operations as ever: the results are bit for bit those of one pass with a branch.
   */
  private scoreLoaded(arm: string): LogitScore {
    const h = this.armHash(arm);
    const icpt = this.intercepts.get(arm);
    const { n, val, sq, mix, w, mask, slots, biasAt, biases, interceptSlot } = this;
    w[interceptSlot] = icpt?.mean ?? 0;
    w[interceptSlot + 1] = icpt?.precision ?? this.interceptPriorPrecision;
    for (let i = 0; i < n; i++) slots[i] = (fmix32(h ^ (mix[i] as number)) & mask) << 1;
    for (let b = 0; b < biases; b++) slots[biasAt[b] as number] = interceptSlot;
    let mean = 0;
    let variance = 0;
    for (let i = 0; i < n; i++) {
      const s = slots[i] as number;
      mean += (w[s] as number) * (val[i] as number);
      variance += (sq[i] as number) / (w[s + 1] as number);
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
    this.load(x);
    const { n, idx, val, sq, mix, w, mask, bias, slots } = this;
    const h = this.armHash(arm);
    let icpt = this.intercepts.get(arm);
    if (!icpt) {
      icpt = { mean: 0, precision: this.interceptPriorPrecision };
      this.intercepts.set(arm, icpt);
    }
    let mu = 0;
    let s = 0;
    for (let i = 0; i < n; i++) {
      const v = val[i] as number;
      if (idx[i] === bias) {
        slots[i] = -1;
        mu += icpt.mean * v;
        s += (sq[i] as number) / icpt.precision;
      } else {
        const slot = (fmix32(h ^ (mix[i] as number)) & mask) << 1;
        slots[i] = slot;
        mu += (w[slot] as number) * v;
        s += (sq[i] as number) / (w[slot + 1] as number);
      }
    }
    const t = solveResidual(mu, s, reward);
    const p = sigmoid(mu + t * s);
    const curvature = p * (1 - p);
    // Means first, with the prior precisions; then the precisions.
    for (let i = 0; i < n; i++) {
      const slot = slots[i] as number;
      const v = val[i] as number;
      if (slot < 0) icpt.mean += (t * v) / icpt.precision;
      else w[slot] = (w[slot] as number) + (t * v) / (w[slot + 1] as number);
    }
    for (let i = 0; i < n; i++) {
      const slot = slots[i] as number;
      if (slot < 0) icpt.precision += (sq[i] as number) * curvature;
      else w[slot + 1] = (w[slot + 1] as number) + (sq[i] as number) * curvature;
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

  /**
   * Checks `x` and copies it into the scratch arrays. Features from elsewhere (a decision log, a client) are
   * checked: one NaN would poison every weight it touches. Throws before anything is loaded or learned.
   */
  private load(x: SparseFeatures): void {
    const { idx, val } = x;
    const n = idx.length;
    if (n !== val.length) {
      throw new Error(`features: idx has ${n} entries but val has ${val.length}`);
    }
    if (this.holds(idx, val)) return; // scoring one vector arm by arm (posterior() per arm): checked already
    for (let i = 0; i < n; i++) {
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
    if (this.idx.length < n) {
      const size = capacity(n);
      this.idx = new Int32Array(size);
      this.val = new Float64Array(size);
      this.sq = new Float64Array(size);
      this.mix = new Int32Array(size);
      this.slots = new Int32Array(size);
      this.biasAt = new Int32Array(size);
    }
    const { idx: ti, val: tv, sq, mix, biasAt, bias } = this;
    let biases = 0;
    for (let i = 0; i < n; i++) {
      const j = idx[i] as number;
      const v = val[i] as number;
      ti[i] = j;
      tv[i] = v;
      sq[i] = v * v;
      mix[i] = crossMix(j);
      if (j === bias) biasAt[biases++] = i;
    }
    this.n = n;
    this.biases = biases;
  }

  /** Whether the scratch holds exactly this vector (so it was checked, and its derived arrays are current). */
  private holds(idx: readonly number[], val: readonly number[]): boolean {
    const n = this.n;
    if (idx.length !== n) return false;
    const { idx: ti, val: tv } = this;
    for (let i = 0; i < n; i++) if (idx[i] !== ti[i] || val[i] !== tv[i]) return false;
    return true;
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
