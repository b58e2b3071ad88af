import { beta, fillNormal, type Rng } from '../learn/index.js';
import type { Option } from './score.js';

/** How many posterior standard deviations bound a draw: a normal draw beyond ±4σ has probability 6e-5. */
const Z = 4;

/*
 * Scratch for thompsonDistribution, one slot per option (or per sample), grown as needed: decide() is
 * synchronous and never re-entered, so one set serves every call without allocating.
 */
let logistic = new Uint8Array(0); // 1: logistic posterior (mean, sd); 0: Beta (alpha, beta)
let mean = new Float64Array(0); // logistic: mean of z; Beta: alpha
let sd = new Float64Array(0); // logistic: sd of z; Beta: beta
let value = new Float64Array(0);
let weight = new Float64Array(0);
let cost = new Float64Array(0);
let center = new Float64Array(0); // the priority at the posterior's centre: the visiting order
let high = new Float64Array(0); // the best plausible priority of a draw (+4σ)
let order = new Int32Array(0);
let ranked = new Int32Array(0); // every option by decreasing centre; kept between calls (see below)
let rankedN = -1;
let wins = new Int32Array(0);
let best = new Float64Array(0); // per sample: the best priority so far, and whose
let winner = new Int32Array(0);
let fresh = new Float64Array(0);

const reserve = (n: number, samples: number): void => {
  if (mean.length < n) {
    const size = 2 ** Math.ceil(Math.log2(Math.max(n, 64)));
    logistic = new Uint8Array(size);
    mean = new Float64Array(size);
    sd = new Float64Array(size);
    value = new Float64Array(size);
    weight = new Float64Array(size);
    cost = new Float64Array(size);
    center = new Float64Array(size);
    high = new Float64Array(size);
    order = new Int32Array(size);
    ranked = new Int32Array(size);
    rankedN = -1;
    wins = new Int32Array(size);
  }
  if (best.length < samples) {
    const size = 2 ** Math.ceil(Math.log2(Math.max(samples, 64)));
    best = new Float64Array(size);
    winner = new Int32Array(size);
    fresh = new Float64Array(size);
  }
};

const scoreAt = (o: Option, prob: number): number => prob * o.value * o.weight - o.cost;

/*
 * σ(z) on a grid, for a cheap and *sure* test that a draw cannot win: linear interpolation between grid points
 * h apart is within h²/8 · max|σ''| = h²/8 · 0.0962 of σ (1.2e-5 at h = 1/32); SIGMA_SLACK adds room for
 * rounding. Math.exp costs ~25 ns in V8, the lookup a few; most draws lose.
 */
const SIGMA_STEPS = 32; // per unit of z
const SIGMA_RANGE = 16; // the grid covers [-16, 16]; beyond, σ is computed
const SIGMA_END = 2 * SIGMA_RANGE * SIGMA_STEPS;
const SIGMA_SLACK = 2e-5;
const sigmaGrid = Float64Array.from(
  { length: SIGMA_END + 2 },
  (_, k) => 1 / (1 + Math.exp(-(k / SIGMA_STEPS - SIGMA_RANGE))),
);

/** σ(z) within the grid's error (exactly, off the grid). */
const sigmaNear = (z: number): number => {
  const u = (z + SIGMA_RANGE) * SIGMA_STEPS;
  if (!(u >= 0 && u < SIGMA_END)) return 1 / (1 + Math.exp(-z));
  const g = Math.floor(u);
  const lo = sigmaGrid[g] as number;
  return lo + ((sigmaGrid[g + 1] as number) - lo) * (u - g);
};

/*
 * Normal deviates: drawing 64 for each of 50 options would cost more than the rest of a decision, so each
 * random number generator gets a pool of them, in blocks of `samples`: each option of a call reads one block,
 * and each call renews one block. Within a block the deviates are sorted (ascending) and each carries the
 * sample it goes to, a random permutation: the sample-by-sample deviates are then iid normal, as if drawn in
 * order, yet an option's draws can be visited from the largest down and left as soon as one cannot win (the
 * rest are smaller). Within a call no block is read twice (a call may read at most a quarter of the pool; a
 * bigger one draws fresh deviates); across calls reuse is harmless, because the choice is sampled from the
 * distribution the call estimated, so the logged propensity is exact whatever deviates estimated it. Keyed
 * by generator, so the same seed replays the same decisions.
 */
const POOL = 1 << 15;

interface Pool {
  block: number;
  buf: Float64Array;
  /** The sample each deviate goes to (a permutation of 0 … block − 1 per block). */
  slot: Int32Array;
  /** The next block to renew. */
  cursor: number;
}
const pools = new WeakMap<Rng, Pool>();

/** Draws block b afresh: `block` normal deviates, sorted, each given a sample by a random permutation. */
/** Gives block b's deviates to the samples by a fresh random permutation (Fisher–Yates). */
const shuffle = (pool: Pool, b: number, rng: Rng): void => {
  const { block, slot } = pool;
  const from = b * block;
  for (let j = block - 1; j > 0; j--) {
    const r = from + Math.floor(rng.next() * (j + 1));
    const t = slot[from + j] as number;
    slot[from + j] = slot[r] as number;
    slot[r] = t;
  }
};

/** Draws block b afresh: `block` normal deviates, sorted, each given a sample by a random permutation. */
const renew = (pool: Pool, b: number, rng: Rng): void => {
  const { block, buf, slot } = pool;
  const from = b * block;
  const part = buf.subarray(from, from + block);
  fillNormal(rng, part, block);
  part.sort();
  for (let j = 0; j < block; j++) slot[from + j] = j;
  shuffle(pool, b, rng);
};

const poolOf = (rng: Rng, block: number): Pool => {
  let pool = pools.get(rng);
  if (pool === undefined || pool.block !== block) {
    const size = Math.floor(POOL / block) * block;
    pool = { block, buf: new Float64Array(size), slot: new Int32Array(size), cursor: 0 };
    for (let b = 0; b < size / block; b++) renew(pool, b, rng);
    pools.set(rng, pool);
  }
  return pool;
};

/** 0, 1, … : the samples of fresh (unsorted) deviates, in order. */
let identity = new Int32Array(0);

/**
 * Thompson sampling over the options (Chapelle & Li 2011): each draw samples every option's P(goal) from its
 * posterior and picks the best priority. Repeating the draw `samples` times estimates the probability π_TS(o)
 * that the policy picks each option; the choice is then sampled from that estimated distribution, so the
 * logged propensity is exactly the probability with which the choice was made (what off-policy estimators need).
 *
 * The work skips what cannot change a draw's winner, treating a draw beyond ±4σ of its posterior (probability
 * 6e-5) as impossible:
 * - an option whose best plausible draw is below another's worst plausible draw is not sampled at all (with 50
 *   actions and a confident model most are dominated); its probability is then 0 before the exploration floor,
 *   which still gives it `min / n`;
 * - the others are visited option by option, all samples at once, by decreasing priority at their posterior's
 *   centre, so the first ones set high bests: an option whose best plausible draw is below every sample's best
 *   so far is skipped;
 * - a draw whose logit is below the one needed to beat the lowest best of all samples is settled by one
 *   comparison; for the others σ(z) (an exp) is only computed when an upper bound of it read from a grid leaves
 *   the draw a chance to beat its sample's best.
 * Ties go to the option listed first (doing nothing), as when every option is drawn in order.
 */
export const thompsonDistribution = (options: readonly Option[], samples: number, rng: Rng): number[] => {
  const n = options.length;
  reserve(n, samples);

  // The plausible range of each option's draw, and the floor: the best of the worst plausible draws.
  let floor = -Infinity;
  let drawn = 0; // options on the logistic posterior
  for (let i = 0; i < n; i++) {
    const o = options[i] as Option;
    const p = o.posterior;
    value[i] = o.value;
    weight[i] = o.weight;
    cost[i] = o.cost;
    wins[i] = 0;
    let lowest: number;
    if (p.model === 'logistic') {
      const s = Math.sqrt(p.variance);
      logistic[i] = 1;
      drawn++;
      mean[i] = p.mean;
      sd[i] = s;
      // From the grid, not exp (three per option would cost more than the draws they save): the centre only
      // orders the visits, and the bounds are widened by the grid's error so they stay bounds.
      center[i] = scoreAt(o, sigmaNear(p.mean));
      lowest = scoreAt(o, Math.max(0, sigmaNear(p.mean - Z * s) - SIGMA_SLACK));
      high[i] = scoreAt(o, Math.min(1, sigmaNear(p.mean + Z * s) + SIGMA_SLACK));
    } else {
      logistic[i] = 0;
      mean[i] = p.alpha;
      sd[i] = p.beta;
      const total = p.alpha + p.beta;
      const m = p.alpha / total;
      const s = Math.sqrt((p.alpha * p.beta) / (total * total * (total + 1)));
      center[i] = scoreAt(o, m);
      lowest = scoreAt(o, Math.max(0, m - Z * s));
      high[i] = scoreAt(o, Math.min(1, m + Z * s));
    }
    // A lever that makes the priority fall with P(goal) (value × weight < 0) swaps the ends.
    if (lowest > (high[i] as number)) {
      const t = lowest;
      lowest = high[i] as number;
      high[i] = t;
    }
    if (Number.isNaN(high[i] as number) || Number.isNaN(lowest)) {
      high[i] = Infinity; // no bound: never skipped
      lowest = -Infinity;
    }
    if (lowest > floor) floor = lowest;
  }

  // Contenders by decreasing centre priority, ties in index order. The insertion sort starts from the last
  // call's order: successive customers of one catalog rank their options alike, so it is nearly sorted.
  if (rankedN !== n) {
    for (let i = 0; i < n; i++) ranked[i] = i;
    rankedN = n;
  }
  for (let i = 0; i < n; i++) if (Number.isNaN(center[i] as number)) center[i] = -Infinity;
  for (let r = 1; r < n; r++) {
    const i = ranked[r] as number;
    const c = center[i] as number;
    let q = r;
    for (; q > 0; q--) {
      const j = ranked[q - 1] as number;
      const cj = center[j] as number;
      if (cj > c || (cj === c && j < i)) break;
      ranked[q] = j;
    }
    ranked[q] = i;
  }
  let live = 0;
  for (let r = 0; r < n; r++) {
    const i = ranked[r] as number;
    if ((high[i] as number) >= floor) order[live++] = i;
  }

  // Deviates: from the generator's pool, one sorted block per option, or fresh for a call too big for it.
  const pooled = samples * drawn <= POOL / 4;
  const pool = pooled ? poolOf(rng, samples) : undefined;
  const blocks = pool === undefined ? 0 : pool.buf.length / samples;
  let at = pool === undefined ? 0 : Math.floor(rng.next() * (blocks - drawn + 1)) * samples;
  if (pool === undefined && identity.length < samples)
    identity = Int32Array.from({ length: samples }, (_, k) => k);

  best.fill(-Infinity, 0, samples);
  winner.fill(-1, 0, samples);
  let bestMin = -Infinity; // the lowest best over the samples
  for (let r = 0; r < live; r++) {
    const i = order[r] as number;
    if ((high[i] as number) < bestMin) continue; // cannot plausibly win any sample
    const v = (value[i] as number) * (weight[i] as number);
    const c = cost[i] as number;
    let changed = false;
    if (logistic[i] === 1) {
      const m = mean[i] as number;
      const s = sd[i] as number;
      let dev: Float64Array;
      let slot: Int32Array;
      if (pool !== undefined) {
        dev = pool.buf;
        slot = pool.slot;
      } else {
        fillNormal(rng, fresh, samples);
        dev = fresh;
        slot = identity;
        at = 0;
      }
      const bounded = v > 0 && Number.isFinite(v);
      // Below zLow, σ(z)·v − c is below every sample's best: one comparison settles a draw, and in a sorted
      // block all the draws after it. (The margin covers the rounding of the log; the grid test below settles
      // the rest of the losers.)
      let zLow = -Infinity;
      if (bounded && bestMin > -Infinity) {
        const t = (bestMin + c) / v;
        if (t > 0 && t < 1) zLow = Math.log(t / (1 - t)) - 1e-9;
      }
      const sorted = pool !== undefined;
      for (let j = samples - 1; j >= 0; j--) {
        const z = m + s * (dev[at + j] as number);
        if (z < zLow) {
          if (sorted) break;
          continue;
        }
        const k = slot[at + j] as number;
        const bk = best[k] as number;
        if (bounded) {
          // Sure to lose even at σ's upper bound: skip the exp.
          const u = (z + SIGMA_RANGE) * SIGMA_STEPS;
          if (u >= 0 && u < SIGMA_END) {
            const g = Math.floor(u);
            const lo = sigmaGrid[g] as number;
            const above = lo + ((sigmaGrid[g + 1] as number) - lo) * (u - g) + SIGMA_SLACK;
            if (above * v - c < bk) continue;
          }
        }
        const score = (1 / (1 + Math.exp(-z))) * v - c;
        if (score > bk || (score === bk && i < (winner[k] as number))) {
          best[k] = score;
          winner[k] = i;
          changed = true;
        }
      }
      at += samples;
    } else {
      for (let k = 0; k < samples; k++) {
        const score = beta(rng, mean[i] as number, sd[i] as number) * v - c;
        const bk = best[k] as number;
        if (score > bk || (score === bk && i < (winner[k] as number))) {
          best[k] = score;
          winner[k] = i;
          changed = true;
        }
      }
    }
    // Bests only rise, so a stale lowest best is still a floor: refreshed after the first options (which set
    // most bests), then every fourth.
    if (changed && (r < 8 || (r & 3) === 0)) {
      let lowest = Infinity;
      for (let k = 0; k < samples; k++) if ((best[k] as number) < lowest) lowest = best[k] as number;
      bestMin = lowest;
    }
  }
  for (let k = 0; k < samples; k++) {
    const w = winner[k] as number;
    if (w >= 0) wins[w] = (wins[w] as number) + 1;
  }
  if (pool !== undefined) {
    // Each call reshuffles one block's permutation and every 16th also draws its deviates afresh (sorting them
    // costs as much as the rest of the call's sampling): the whole pool is redrawn every 16 × POOL / samples
    // calls. What a block's deviates are matters little (they are 32,768 draws of one normal); that the samples
    // they go to are independent of every other block's is what matters, and the permutations see to it.
    if ((pool.cursor & 15) === 0) renew(pool, pool.cursor >>> 4, rng);
    else shuffle(pool, (pool.cursor * 7919) % blocks, rng);
    pool.cursor = (pool.cursor + 1) % (16 * blocks);
  }
  const dist = new Array<number>(n);
  for (let i = 0; i < n; i++) dist[i] = (wins[i] as number) / samples;
  return dist;
};

/**
 * Applies the exploration bounds to a Thompson distribution. Above `max`, the mass that departs from the
 * greedy option is scaled down to `max` (mixing with the greedy choice); then every option gets at least
 * `min / n` (mixing with uniform), so logged data keeps covering every option for offline evaluation.
 */
export const boundExploration = (
  dist: readonly number[],
  greedy: number,
  bounds: { min: number; max: number },
): number[] => {
  const n = dist.length;
  const exploreMass = 1 - (dist[greedy] ?? 0);
  const keep = exploreMass > bounds.max && exploreMass > 0 ? bounds.max / exploreMass : 1;
  return dist.map((p, i) => {
    const mixed = keep * p + (i === greedy ? 1 - keep : 0);
    return bounds.min / n + (1 - bounds.min) * mixed;
  });
};

/** Samples an index from a distribution (which sums to 1 up to rounding). */
export const sampleIndex = (dist: readonly number[], rng: Rng): number => {
  const u = rng.next();
  let acc = 0;
  for (let i = 0; i < dist.length; i++) {
    acc += dist[i] as number;
    if (u < acc) return i;
  }
  // Rounding left u above the total: take the last option with any mass.
  for (let i = dist.length - 1; i >= 0; i--) if ((dist[i] as number) > 0) return i;
  return 0;
};
