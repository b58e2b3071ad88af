import { beta, normal, type Rng } from '../learn/index.js';
import type { Option } from './score.js';

/**
 * Thompson sampling over the options (Chapelle & Li 2011): each draw samples every option's P(goal) from its
 * posterior and picks the best priority. Repeating the draw `samples` times estimates the probability π_TS(o)
 * that the policy picks each option; the choice is then sampled from that estimated distribution, so the
 * logged propensity is exactly the probability with which the choice was made (what off-policy estimators need).
 */
export const thompsonDistribution = (options: readonly Option[], samples: number, rng: Rng): number[] => {
  const n = options.length;
  const wins = new Array<number>(n).fill(0);
  const live = contenders(options);
  for (let k = 0; k < samples; k++) {
    let best = -1;
    let bestScore = -Infinity;
    for (const i of live) {
      const o = options[i] as Option;
      const p = o.posterior;
      const prob =
        p.model === 'logistic'
          ? 1 / (1 + Math.exp(-(p.mean + Math.sqrt(p.variance) * normal(rng))))
          : beta(rng, p.alpha, p.beta);
      const score = scoreAt(o, prob);
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    wins[best] = (wins[best] as number) + 1;
  }
  return wins.map((w) => w / samples);
};

/** How many posterior standard deviations bound a draw: a normal draw beyond ±4σ has probability 6e-5. */
const Z = 4;

const scoreAt = (o: Option, prob: number): number => prob * o.value * o.weight - o.cost;

/** The range a draw of an option's priority falls in, except with probability about 6e-5. */
const drawRange = (o: Option): [number, number] => {
  const p = o.posterior;
  if (p.model === 'logistic') {
    const sd = Math.sqrt(p.variance);
    return [
      scoreAt(o, 1 / (1 + Math.exp(-(p.mean - Z * sd)))),
      scoreAt(o, 1 / (1 + Math.exp(-(p.mean + Z * sd)))),
    ];
  }
  const n = p.alpha + p.beta;
  const mean = p.alpha / n;
  const sd = Math.sqrt((p.alpha * p.beta) / (n * n * (n + 1)));
  return [scoreAt(o, Math.max(0, mean - Z * sd)), scoreAt(o, Math.min(1, mean + Z * sd))];
};

/**
 * The options that can win a draw. One whose best plausible draw is below another's worst plausible draw wins
 * with probability under 1e-4, so it is not sampled at all: with 50 actions and a trained model most are
 * dominated, and skipping them makes a decision several times cheaper. Its probability is then 0 before the
 * exploration floor, which still gives it `min / n`.
 */
const contenders = (options: readonly Option[]): number[] => {
  const ranges = options.map(drawRange);
  let floor = -Infinity;
  for (const [lo] of ranges) if (lo > floor) floor = lo;
  const live: number[] = [];
  ranges.forEach(([, hi], i) => {
    if (hi >= floor) live.push(i);
  });
  return live;
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
