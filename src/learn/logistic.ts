import type { SparseFeatures } from '../domain/decision.js';
import { biasIndex } from './features.js';
import { crossMix, fmix32 } from './hash.js';
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

/** Arms per block: a block's weights for one feature sit side by side in one row (see LogisticRegression). */
export const LANES = 16;
const LANE_BITS = 4;
const LANE_MASK = LANES - 1;

/** Row salt of block b: blocks hash features to rows independently, so their collisions are independent. */
const blockSalt = (b: number): number => fmix32(Math.imul(b + 1, 0x9e3779b9)) | 0;

/**
 * Online Bayesian logistic regression with a diagonal Gaussian posterior (the Laplace approximation of
 * Chapelle & Li 2011, "An Empirical Evaluation of Thompson Sampling", Algorithm 3, one observation per batch).
 *
 * One table of 2^featureBits weights serves every arm (the hashing trick with the arm crossed in, as Chapelle &
 * Li share one table among arms), laid out arm-major for scoring speed: each arm gets a dense index when it
 * first learns, arms are grouped in blocks of LANES, and feature j of arm k lives in row
 * `hash(j, block(k)) & rowMask`, lane `k % LANES`. Scoring a customer against every arm then reads, per feature
 * and block, one contiguous row of LANES (mean, variance) pairs (256 bytes, which the CPU fetches together)
 * instead of one scattered cache line per (feature, arm): with 50 arms and 100 features, 400 row reads instead
 * of 5,000 random ones. The load per slot is that of hashing each (feature, arm) pair on its own (V features ×
 * A arms over 2^featureBits slots); only, within a block, two features that share a row share it in every lane.
 *
 * Each arm's intercept (the `bias` feature) is kept apart, per arm, with a wider prior (see
 * INTERCEPT_PRIOR_SCALE) and no collisions. The table holds each slot's posterior mean and *variance* (the
 * inverse of the precision the update accumulates), so scoring multiplies where it would divide.
 */
export class LogisticRegression {
  readonly priorVariance: number;
  readonly interceptPriorPrecision: number;
  /** Number of weight slots: 2^featureBits, at least LANES (one row). */
  readonly size: number;
  /** Slot s: posterior mean at 2s (prior 0), posterior variance at 2s + 1 (prior priorVariance). */
  private readonly w: Float64Array;
  private readonly rowMask: number;
  /** Feature indices run from 0 to features − 1 (2^featureBits). */
  private readonly features: number;
  private readonly bias: number;
  /** Arm id → dense index (block = index / LANES, lane = index % LANES); kept by snapshots. */
  private readonly index = new Map<string, number>();
  /** Per block: its row salt, and how many of its lanes hold an arm (1 + the highest lane assigned). */
  private nextIndex = 0;
  private salts: number[] = [];
  private lanesUsed: number[] = [];
  /** Per block: whether the arms being scored need it (scratch of scoreInto). */
  private need = new Uint8Array(0);
  /** Per arm index: its intercept's posterior mean and precision (kept apart, see INTERCEPT_PRIOR_SCALE). */
  private icptMean = new Float64Array(LANES);
  private icptPrecision = new Float64Array(LANES);
  private ks = new Int32Array(capacity(0));
  // The feature vector being scored or learned, checked once (see `load`) and reused across calls (the model is
  // used from one thread). The bias occurrences are summed apart; the other features are kept compacted.
  private n = 0;
  private idx = new Int32Array(capacity(0));
  private val = new Float64Array(capacity(0));
  private m = 0;
  private mix = new Int32Array(capacity(0));
  private mval = new Float64Array(capacity(0));
  private msq = new Float64Array(capacity(0));
  private rows = new Int32Array(capacity(0));
  private biasSum = 0;
  private biasSq = 0;
  /** Σ v² over the non-bias features (the score variance of an arm that never learned, per unit of variance). */
  private plainSq = 0;
  private readonly accMean = new Float64Array(LANES);
  private readonly accVar = new Float64Array(LANES);

  constructor(settings: { featureBits: number; priorVariance: number }) {
    const { featureBits, priorVariance } = settings;
    if (!Number.isInteger(featureBits) || featureBits < 1 || featureBits > 26) {
      throw new Error(`featureBits must be an integer from 1 to 26, got ${featureBits}`);
    }
    if (!(priorVariance > 0) || !Number.isFinite(priorVariance)) {
      throw new Error(`priorVariance must be a positive finite number, got ${priorVariance}`);
    }
    const size = 2 ** Math.max(featureBits, LANE_BITS);
    this.size = size;
    this.rowMask = size / LANES - 1;
    this.features = 2 ** featureBits;
    this.bias = biasIndex(featureBits);
    this.priorVariance = priorVariance;
    this.interceptPriorPrecision = 1 / (INTERCEPT_PRIOR_SCALE * priorVariance);
    this.w = new Float64Array(2 * size);
    for (let s = 1; s < 2 * size; s += 2) this.w[s] = priorVariance;
    this.icptPrecision.fill(this.interceptPriorPrecision);
  }

  /** Posterior mean of weight slot `slot` (0 ≤ slot < size). For snapshots. */
  meanAt(slot: number): number {
    return this.w[2 * slot] ?? 0;
  }

  /** Posterior variance of weight slot `slot`. For snapshots. */
  varianceAt(slot: number): number {
    return this.w[2 * slot + 1] ?? this.priorVariance;
  }

  /** Sets weight slot `slot` (restoring a snapshot). */
  setSlot(slot: number, mean: number, variance: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.size)
      throw new Error(`slot ${slot} out of range`);
    if (!(variance > 0)) throw new Error(`slot ${slot}: variance must be positive, got ${variance}`);
    this.w[2 * slot] = mean;
    this.w[2 * slot + 1] = variance;
  }

  /** The arms that have learned, with their dense index (for snapshots). */
  get arms(): ReadonlyMap<string, number> {
    return this.index;
  }

  /** Gives `arm` the dense index `at` (restoring a snapshot; the caller keeps indices distinct). */
  setArmIndex(arm: string, at: number): void {
    if (!Number.isInteger(at) || at < 0)
      throw new Error(`arm index must be a non-negative integer, got ${at}`);
    this.index.set(arm, at);
    this.nextIndex = Math.max(this.nextIndex, at + 1);
    const b = at >>> LANE_BITS;
    while (this.salts.length <= b) {
      this.salts.push(blockSalt(this.salts.length));
      this.lanesUsed.push(0);
    }
    this.lanesUsed[b] = Math.max(this.lanesUsed[b] as number, (at & LANE_MASK) + 1);
    if (this.need.length < this.salts.length) this.need = new Uint8Array(this.salts.length);
    if (this.icptMean.length <= at) {
      const size = capacity(at + 1);
      const mean = new Float64Array(size);
      const precision = new Float64Array(size).fill(this.interceptPriorPrecision);
      mean.set(this.icptMean);
      precision.set(this.icptPrecision);
      this.icptMean = mean;
      this.icptPrecision = precision;
    }
  }

  /** The intercept of `arm` (its prior if it never learned). For snapshots. */
  interceptOf(arm: string): Intercept {
    const k = this.index.get(arm);
    if (k === undefined) return { mean: 0, precision: this.interceptPriorPrecision };
    return { mean: this.icptMean[k] as number, precision: this.icptPrecision[k] as number };
  }

  /** Sets the intercept of an arm that has an index (restoring a snapshot). */
  setIntercept(arm: string, icpt: Intercept): void {
    const k = this.index.get(arm);
    if (k === undefined) throw new Error(`arm "${arm}" has no index`);
    if (!(icpt.precision > 0)) throw new Error(`arm "${arm}": intercept precision must be positive`);
    this.icptMean[k] = icpt.mean;
    this.icptPrecision[k] = icpt.precision;
  }

  /** The slot of feature index `j` for the arm with dense index `k` (see the class comment). */
  slotOf(j: number, k: number): number {
    const salt = this.salts[k >>> LANE_BITS] ?? blockSalt(k >>> LANE_BITS);
    return ((fmix32(crossMix(j) ^ salt) & this.rowMask) << LANE_BITS) | (k & LANE_MASK);
  }

  /** The posterior of z = w·x for `arm`: mean Σ m_j x_j, variance Σ x_j² v_j (logit scale). */
  score(arm: string, x: SparseFeatures): LogitScore {
    return this.scoreAll([arm], x)[0] as LogitScore;
  }

  /** `score(arm, x)` for each of `arms`, in order (see scoreInto). */
  scoreAll(arms: readonly string[], x: SparseFeatures): LogitScore[] {
    const n = arms.length;
    const mean = new Float64Array(n);
    const variance = new Float64Array(n);
    this.scoreInto(arms, x, mean, variance);
    return Array.from({ length: n }, (_, a) => ({
      mean: mean[a] as number,
      variance: variance[a] as number,
    }));
  }

  /**
   * `score(arm, x)` for each of `arms`, written to `mean[a]` and `variance[a]`. The features are checked and
   * prepared once; then, for each block holding one of the arms, each feature's row is read once and summed
   * into all its lanes. An arm that never learned has no weights: it scores at the prior (mean 0).
   */
  scoreInto(arms: readonly string[], x: SparseFeatures, mean: Float64Array, variance: Float64Array): void {
    this.load(x);
    const n = arms.length;
    if (this.ks.length < n) this.ks = new Int32Array(capacity(n));
    const { ks, index, need, biasSum, biasSq, accMean, accVar, icptMean, icptPrecision } = this;
    const prior = biasSq / this.interceptPriorPrecision + this.plainSq * this.priorVariance;
    need.fill(0);
    for (let a = 0; a < n; a++) {
      const k = index.get(arms[a] as string) ?? -1;
      ks[a] = k;
      if (k >= 0) need[k >>> LANE_BITS] = 1;
      else {
        mean[a] = 0;
        variance[a] = prior;
      }
    }
    for (let b = 0; b < need.length; b++) {
      if (need[b] === 0) continue;
      this.sumBlock(b);
      for (let a = 0; a < n; a++) {
        const k = ks[a] as number;
        if (k < 0 || k >>> LANE_BITS !== b) continue;
        const lane = k & LANE_MASK;
        mean[a] = (icptMean[k] as number) * biasSum + (accMean[lane] as number);
        variance[a] = biasSq / (icptPrecision[k] as number) + (accVar[lane] as number);
      }
    }
  }

  /**
   * Sums the loaded non-bias features into accMean/accVar, for the lanes of block `b` that hold an arm, four
   * lanes per pass over the features with the sums in locals: V8 keeps them in registers, where summing into
   * the arrays would load and store each one per feature (twice as slow).
   */
  private sumBlock(b: number): void {
    const { m, mix, mval, msq, w, rows, rowMask, accMean, accVar } = this;
    const lanes = this.lanesUsed[b] as number;
    const salt = this.salts[b] as number;
    const shift = LANE_BITS + 1; // a row is LANES (mean, variance) pairs
    for (let i = 0; i < m; i++) rows[i] = (fmix32((mix[i] as number) ^ salt) & rowMask) << shift;
    for (let l = 0; l < lanes; l += 4) {
      const o = 2 * l;
      let m0 = 0;
      let m1 = 0;
      let m2 = 0;
      let m3 = 0;
      let v0 = 0;
      let v1 = 0;
      let v2 = 0;
      let v3 = 0;
      for (let i = 0; i < m; i++) {
        const s = (rows[i] as number) + o;
        const x = mval[i] as number;
        const q = msq[i] as number;
        m0 += (w[s] as number) * x;
        v0 += q * (w[s + 1] as number);
        m1 += (w[s + 2] as number) * x;
        v1 += q * (w[s + 3] as number);
        m2 += (w[s + 4] as number) * x;
        v2 += q * (w[s + 5] as number);
        m3 += (w[s + 6] as number) * x;
        v3 += q * (w[s + 7] as number);
      }
      accMean[l] = m0;
      accVar[l] = v0;
      accMean[l + 1] = m1;
      accVar[l + 1] = v1;
      accMean[l + 2] = m2;
      accVar[l + 2] = v2;
      accMean[l + 3] = m3;
      accVar[l + 3] = v3;
    }
  }

  /**
   * Folds in one observation with soft label `reward` in [0, 1]. The MAP of prior × likelihood lies on the line
   * w = m + t·Σx (Σ = diag(v)), where t = r − σ(w·x); writing μ = m·x and s = xᵀΣx, t solves the 1-D equation
   * t − r + σ(μ + t·s) = 0, increasing in t with its root in (r − 1, r): a safeguarded Newton solve. Then each
   * touched precision 1/v grows by x_j²·p(1 − p) at the MAP p (Chapelle & Li's update). Slots that collide within
   * one vector are treated as independent in the precision update: rare, and conservative only in the variance.
   */
  update(arm: string, x: SparseFeatures, reward: number): void {
    if (!(reward >= 0 && reward <= 1)) throw new Error(`reward must be a number in [0, 1], got ${reward}`);
    this.load(x);
    let k = this.index.get(arm);
    if (k === undefined) {
      k = this.nextIndex;
      this.setArmIndex(arm, k);
    }
    const { m, mix, mval, msq, w, rows, rowMask, biasSum, biasSq, icptMean, icptPrecision } = this;
    const icpt = { mean: icptMean[k] as number, precision: icptPrecision[k] as number };
    const salt = this.salts[k >>> LANE_BITS] as number;
    const lane = 2 * (k & LANE_MASK);
    let mu = icpt.mean * biasSum;
    let s = biasSq / icpt.precision;
    for (let i = 0; i < m; i++) {
      const slot = ((fmix32((mix[i] as number) ^ salt) & rowMask) << (LANE_BITS + 1)) + lane;
      rows[i] = slot;
      mu += (w[slot] as number) * (mval[i] as number);
      s += (msq[i] as number) * (w[slot + 1] as number);
    }
    const t = solveResidual(mu, s, reward);
    const p = sigmoid(mu + t * s);
    const curvature = p * (1 - p);
    // Means first, with the prior variances; then the variances.
    icptMean[k] = icpt.mean + (t * biasSum) / icpt.precision;
    for (let i = 0; i < m; i++) {
      const slot = rows[i] as number;
      w[slot] = (w[slot] as number) + t * (mval[i] as number) * (w[slot + 1] as number);
    }
    icptPrecision[k] = icpt.precision + biasSq * curvature;
    for (let i = 0; i < m; i++) {
      const slot = (rows[i] as number) + 1;
      w[slot] = 1 / (1 / (w[slot] as number) + (msq[i] as number) * curvature);
    }
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
    const limit = this.features;
    for (let i = 0; i < n; i++) {
      const j = idx[i];
      const v = val[i];
      if (j === undefined || !Number.isInteger(j) || j < 0 || j >= limit) {
        throw new Error(
          `features.idx[${i}] = ${j}: must be an integer from 0 to ${limit - 1} (hashed with the model's featureBits)`,
        );
      }
      if (v === undefined || !Number.isFinite(v))
        throw new Error(`features.val[${i}] = ${v}: must be finite`);
    }
    if (this.idx.length < n) {
      const size = capacity(n);
      this.idx = new Int32Array(size);
      this.val = new Float64Array(size);
      this.mix = new Int32Array(size);
      this.mval = new Float64Array(size);
      this.msq = new Float64Array(size);
      this.rows = new Int32Array(size);
    }
    const { idx: ti, val: tv, mix, mval, msq, bias } = this;
    let m = 0;
    let biasSum = 0;
    let biasSq = 0;
    let plainSq = 0;
    for (let i = 0; i < n; i++) {
      const j = idx[i] as number;
      const v = val[i] as number;
      ti[i] = j;
      tv[i] = v;
      if (j === bias) {
        biasSum += v;
        biasSq += v * v;
      } else {
        mix[m] = crossMix(j);
        mval[m] = v;
        msq[m] = v * v;
        plainSq += v * v;
        m++;
      }
    }
    // Unit length for the non-bias part (when longer): under the prior, w·x has variance priorVariance × Σx²,
    // so without this a customer with 100 features, or one large number, would start with a score sd of 10+
    // logits: Thompson draws of 0 or 1, exploration at random, and a curvature p(1 − p) too small to learn.
    if (plainSq > 1) {
      const k = 1 / Math.sqrt(plainSq);
      for (let i = 0; i < m; i++) {
        mval[i] = (mval[i] as number) * k;
        msq[i] = (mval[i] as number) * (mval[i] as number);
      }
      plainSq = 1;
    }
    this.n = n;
    this.m = m;
    this.biasSum = biasSum;
    this.biasSq = biasSq;
    this.plainSq = plainSq;
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
