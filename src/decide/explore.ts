import { beta, fillNormal, type Rng } from '../learn/index.js';
import type { Option } from './score.js';

/** How many posterior standard deviations bound a draw: a normal draw beyond ±4σ has probability 6e-5. */
const Z = 4;
/** Normal deviates are drawn this many at a time (the unused rest of the last batch is dropped). */
const NORMAL_BATCH = 256;

/*
 * Scratch for thompsonDistribution, one slot per option, grown as needed: decide() is synchronous and never
 * re-entered, so one set serves every call without allocating.
 */
let logistic = new Uint8Array(0); // 1: logistic posterior (mean, sd); 0: Beta (alpha, beta)
let mean = new Float64Array(0); // logistic: mean of z; Beta: alpha
let sd = new Float64Array(0); // logistic: sd of z; Beta: beta
let value = new Float64Array(0);
let weight = new Float64Array(0);
let cost = new Float64Array(0);
let low = new Float64Array(0); // the plausible range of a draw's priority (drawRange)
let high = new Float64Array(0);
let top = new Float64Array(0); // the most a draw's priority can be, for certain (a probability is at most 1)
let group = new Int32Array(0); // options with the same (value, weight, cost) share a group, -1 for none
let owner = new Int32Array(0); // per group: its first option
let order = new Int32Array(0);
let wins = new Int32Array(0);
let zmax = new Float64Array(0);
const normals = new Float64Array(NORMAL_BATCH);
/*
 * `order` and `group` depend only on each option's levers, posterior kind and whether it is a contender, which
 * successive decisions over the same catalog usually share: the last call's are kept, with what they were
 * computed from, and reused when that is unchanged (the result is the same either way).
 */
let contender = new Uint8Array(0);
let lastN = -1; // options in the last call (-1: nothing kept)
let lastLive = 0;
let lastDrawn = 0;
let lastGroups = 0;
let lastValue = new Float64Array(0);
let lastWeight = new Float64Array(0);
let lastCost = new Float64Array(0);
let lastLogistic = new Uint8Array(0);
let lastContender = new Uint8Array(0);

const reserve = (n: number): void => {
  if (mean.length >= n) return;
  const size = 2 ** Math.ceil(Math.log2(Math.max(n, 64)));
  logistic = new Uint8Array(size);
  mean = new Float64Array(size);
  sd = new Float64Array(size);
  value = new Float64Array(size);
  weight = new Float64Array(size);
  cost = new Float64Array(size);
  low = new Float64Array(size);
  high = new Float64Array(size);
  top = new Float64Array(size);
  group = new Int32Array(size);
  owner = new Int32Array(size);
  order = new Int32Array(size);
  wins = new Int32Array(size);
  zmax = new Float64Array(size);
  contender = new Uint8Array(size);
  lastN = -1;
  lastValue = new Float64Array(size);
  lastWeight = new Float64Array(size);
  lastCost = new Float64Array(size);
  lastLogistic = new Uint8Array(size);
  lastContender = new Uint8Array(size);
};

/** Whether the options' levers, kinds and contenders are those of the last call (so its order and groups hold). */
const sameAsLast = (n: number): boolean => {
  if (n !== lastN) return false;
  for (let i = 0; i < n; i++) {
    if (
      value[i] !== lastValue[i] ||
      weight[i] !== lastWeight[i] ||
      cost[i] !== lastCost[i] ||
      logistic[i] !== lastLogistic[i] ||
      contender[i] !== lastContender[i]
    )
      return false;
  }
  return true;
};

const scoreAt = (o: Option, prob: number): number => prob * o.value * o.weight - o.cost;

/*
 * σ(z) on a grid, for a cheap and *sure* test that a draw cannot win (see thompsonDistribution): linear
 * interpolation between grid points h apart is within h²/8 · max|σ''| = h²/8 · 0.0962 of σ (1.2e-5 at h = 1/32);
 * SIGMA_SLACK adds room for rounding. Math.exp costs ~25 ns in V8, the lookup a few; most draws lose.
 */
const SIGMA_STEPS = 32; // per unit of z
const SIGMA_RANGE = 16; // the grid covers [-16, 16]; beyond, σ is computed
const SIGMA_SLACK = 2e-5;
const sigmaGrid = Float64Array.from(
  { length: 2 * SIGMA_RANGE * SIGMA_STEPS + 2 },
  (_, k) => 1 / (1 + Math.exp(-(k / SIGMA_STEPS - SIGMA_RANGE))),
);

/** An upper bound of σ(z): the interpolated grid value plus its error bound (or σ itself off the grid). */
const sigmaAbove = (z: number): number => {
  const u = (z + SIGMA_RANGE) * SIGMA_STEPS;
  if (!(u >= 0 && u < 2 * SIGMA_RANGE * SIGMA_STEPS)) return 1 / (1 + Math.exp(-z));
  const k = Math.floor(u);
  const a = sigmaGrid[k] as number;
  return a + ((sigmaGrid[k + 1] as number) - a) * (u - k) + SIGMA_SLACK;
};

/**
 * Puts the contenders in `order`, by decreasing `top`, ties in index order (insertion sort: stable), and forms
 * the groups: contenders on the logistic model with equal (value, weight, cost), value × weight > 0. Equal levers
 * give equal `top`, so a group's members are within one run of equal `top` in `order`, in index order.
 */
const arrange = (n: number): void => {
  let live = 0;
  let drawn = 0; // contenders with a logistic posterior: normal deviates per draw, at most
  for (let i = 0; i < n; i++) {
    if (contender[i] !== 1) continue;
    if (logistic[i] === 1) drawn++;
    const t = top[i] as number;
    let r = live++;
    while (r > 0 && (top[order[r - 1] as number] as number) < t) {
      order[r] = order[r - 1] as number;
      r--;
    }
    order[r] = i;
  }
  let groups = 0;
  let runStart = 0; // the first group of the current run of equal `top`
  for (let r = 0; r < live; r++) {
    const i = order[r] as number;
    if (r > 0 && top[order[r - 1] as number] !== top[i]) runStart = groups;
    group[i] = -1;
    const v = value[i] as number;
    const w = weight[i] as number;
    const c = cost[i] as number;
    if (logistic[i] !== 1 || !((v > 0 && w > 0) || (v < 0 && w < 0)) || !Number.isFinite(v * w - c)) continue;
    let g = runStart;
    for (; g < groups; g++) {
      const j = owner[g] as number;
      if (value[j] === v && weight[j] === w && cost[j] === c) break;
    }
    if (g === groups) {
      owner[groups] = i;
      groups++;
    }
    group[i] = g;
  }
  lastN = n;
  lastLive = live;
  lastDrawn = drawn;
  lastGroups = groups;
  lastValue.set(value.subarray(0, n));
  lastWeight.set(weight.subarray(0, n));
  lastCost.set(cost.subarray(0, n));
  lastLogistic.set(logistic.subarray(0, n));
  lastContender.set(contender.subarray(0, n));
};

/**
 * Thompson sampling over the options (Chapelle & Li 2011): each draw samples every option's P(goal) from its
 * posterior and picks the best priority. Repeating the draw `samples` times estimates the probability π_TS(o)
 * that the policy picks each option; the choice is then sampled from that estimated distribution, so the
 * logged propensity is exactly the probability with which the choice was made (what off-policy estimators need).
 *
 * Options that cannot plausibly win are not sampled (see the pruning below). Within a draw, the work skips what
 * cannot change the draw's winner, so the estimate is distributed exactly as if every option were sampled:
 * - options are visited by decreasing `top`, the highest priority any probability in [0, 1] gives them (ties in
 *   index order); once the best priority so far exceeds the next option's `top`, no remaining option can win;
 * - options with the same value, weight and cost (a positive value × weight) rank by their logit draw z, since
 *   σ is increasing: one whose z is not above an earlier one's in the same group cannot win;
 * - for those (value × weight > 0), σ(z), an exp, is only computed when an upper bound of it read from a grid
 *   (sigmaAbove) leaves the draw a chance to win: most draws lose, and lose by more than the bound's slack.
 * Ties go to the option listed first (doing nothing), as when every option is drawn in order.
 */
export const thompsonDistribution = (options: readonly Option[], samples: number, rng: Rng): number[] => {
  const n = options.length;
  reserve(n);

  // The plausible range of each option's draw, and the floor: the best of the worst plausible draws.
  let floor = -Infinity;
  for (let i = 0; i < n; i++) {
    const o = options[i] as Option;
    const p = o.posterior;
    value[i] = o.value;
    weight[i] = o.weight;
    cost[i] = o.cost;
    wins[i] = 0;
    if (p.model === 'logistic') {
      const s = Math.sqrt(p.variance);
      logistic[i] = 1;
      mean[i] = p.mean;
      sd[i] = s;
      low[i] = scoreAt(o, 1 / (1 + Math.exp(-(p.mean - Z * s))));
      high[i] = scoreAt(o, 1 / (1 + Math.exp(-(p.mean + Z * s))));
    } else {
      logistic[i] = 0;
      mean[i] = p.alpha;
      sd[i] = p.beta;
      const total = p.alpha + p.beta;
      const m = p.alpha / total;
      const s = Math.sqrt((p.alpha * p.beta) / (total * total * (total + 1)));
      low[i] = scoreAt(o, Math.max(0, m - Z * s));
      high[i] = scoreAt(o, Math.min(1, m + Z * s));
    }
    const most = Math.max(scoreAt(o, 0), scoreAt(o, 1));
    top[i] = Number.isNaN(most) ? Infinity : most; // no bound: never skipped
    if ((low[i] as number) > floor) floor = low[i] as number;
  }

  /*
   * Pruning: an option whose best plausible draw is below another's worst plausible draw wins with probability
   * under 1e-4, so it is not sampled at all: with 50 actions and a confident model most are dominated. Its
   * probability is then 0 before the exploration floor, which still gives it `min / n`.
   */
  for (let i = 0; i < n; i++) contender[i] = (high[i] as number) >= floor ? 1 : 0;
  if (!sameAsLast(n)) arrange(n);
  const live = lastLive;
  const drawn = lastDrawn;
  const groups = lastGroups;

  let left = 0; // normal deviates left in `normals`
  let at = 0;
  for (let k = 0; k < samples; k++) {
    for (let g = 0; g < groups; g++) zmax[g] = -Infinity;
    let best = -1;
    let bestScore = -Infinity;
    for (let r = 0; r < live; r++) {
      const i = order[r] as number;
      if ((top[i] as number) < bestScore) break; // neither this option nor any after it can win
      let prob: number;
      if (logistic[i] === 1) {
        if (left === 0) {
          left = Math.min(NORMAL_BATCH, (samples - k) * drawn);
          fillNormal(rng, normals, left);
          at = 0;
        }
        left--;
        const z = (mean[i] as number) + (sd[i] as number) * (normals[at++] as number);
        const g = group[i] as number;
        if (g >= 0) {
          if (z <= (zmax[g] as number)) continue; // an earlier option of its group drew at least as high
          zmax[g] = z;
          // Sure to lose even at σ's upper bound (grouped options have value × weight > 0): skip the exp.
          if (sigmaAbove(z) * (value[i] as number) * (weight[i] as number) - (cost[i] as number) < bestScore)
            continue;
        }
        prob = 1 / (1 + Math.exp(-z));
      } else {
        prob = beta(rng, mean[i] as number, sd[i] as number);
      }
      const score = prob * (value[i] as number) * (weight[i] as number) - (cost[i] as number);
      if (score > bestScore || (score === bestScore && i < best)) {
        bestScore = score;
        best = i;
      }
    }
    if (best >= 0) wins[best] = (wins[best] as number) + 1;
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
