/**
 * Seeded randomness for the pure core. Nothing in `learn/` reads `Math.random`: every draw comes from an `Rng`
 * passed in, so a decision, a simulation or a test replays exactly from its seed.
 */

/** A source of uniform numbers in [0, 1). */
export interface Rng {
  next(): number;
}

const TWO_POW_32 = 4294967296;

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Chaotic generator, PractRand-clean to many terabytes): four 32-bit
 * words of state, a handful of integer ops per draw. Resolution is 2^-32, enough for sampling and propensities.
 */
class Sfc32 implements Rng {
  /** The second deviate of the last polar-method pair, NaN when none is cached (see `normal`). */
  spare = NaN;

  constructor(
    private a: number,
    private b: number,
    private c: number,
    private d: number,
  ) {}

  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / TWO_POW_32;
  }
}

/** One splitmix32 step (Steele, Lea & Flood 2014): spreads a weak seed (0, 1, 2, …) over all 32 bits. */
const splitmix32 = (state: number): number => {
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
};

/**
 * A fast seeded generator. `seed` is any finite number; its integer part (up to 2^53) is mixed through splitmix32,
 * so neighbouring seeds give unrelated streams.
 */
export const seededRng = (seed: number): Rng => {
  if (!Number.isFinite(seed)) throw new Error(`seededRng: seed must be a finite number, got ${seed}`);
  const whole = Math.trunc(seed);
  const lo = whole >>> 0;
  const hi = Math.floor(whole / TWO_POW_32) >>> 0;
  let s = (lo ^ Math.imul(hi, 0x85ebca6b)) | 0;
  const words: number[] = [];
  for (let i = 0; i < 4; i++) {
    s = (s + 0x9e3779b9) | 0;
    words.push(splitmix32(s));
  }
  const rng = new Sfc32(words[0] ?? 0, words[1] ?? 0, words[2] ?? 0, words[3] ?? 1);
  // The customary warm-up: the first outputs of sfc32 still correlate with the seed words.
  for (let i = 0; i < 12; i++) rng.next();
  return rng;
};

/** Spares for generators that are not ours (we cannot add a field to them). */
const foreignSpares = new WeakMap<Rng, number>();
let pairSpare = 0;

/** Marsaglia & Bray (1964) polar method: returns one N(0, 1) deviate and leaves its twin in `pairSpare`. */
const polarPair = (rng: Rng): number => {
  let u: number;
  let v: number;
  let s: number;
  do {
    u = 2 * rng.next() - 1;
    v = 2 * rng.next() - 1;
    s = u * u + v * v;
  } while (s >= 1 || s === 0);
  const f = Math.sqrt((-2 * Math.log(s)) / s);
  pairSpare = v * f;
  return u * f;
};

/**
 * A standard normal deviate. On the hot path (thousands of Thompson draws per decision), so the polar method's
 * second deviate is cached on the generator: on average ~0.64 uniforms and half a log per call. The cache is per
 * generator, so two generators never disturb each other's sequence.
 */
export const normal = (rng: Rng): number => {
  if (rng instanceof Sfc32) {
    if (!Number.isNaN(rng.spare)) {
      const s = rng.spare;
      rng.spare = NaN;
      return s;
    }
    const z = polarPair(rng);
    rng.spare = pairSpare;
    return z;
  }
  const cached = foreignSpares.get(rng);
  if (cached !== undefined) {
    foreignSpares.delete(rng);
    return cached;
  }
  const z = polarPair(rng);
  foreignSpares.set(rng, pairSpare);
  return z;
};

/**
 * A Gamma(shape, 1) deviate by Marsaglia & Tsang (2000), "A simple method for generating gamma variables".
 * For shape < 1 it uses Gamma(shape + 1) · U^(1/shape) (their section 6).
 */
export const gamma = (rng: Rng, shape: number): number => {
  if (!(shape > 0) || !Number.isFinite(shape)) {
    throw new Error(`gamma: shape must be a positive finite number, got ${shape}`);
  }
  if (shape < 1) {
    let u = rng.next();
    while (u === 0) u = rng.next();
    return gamma(rng, shape + 1) * Math.pow(u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.next();
    const x2 = x * x;
    if (u < 1 - 0.0331 * x2 * x2) return d * v;
    if (u > 0 && Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return d * v;
  }
};

/** A Beta(a, b) deviate as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). */
export const beta = (rng: Rng, a: number, b: number): number => {
  const x = gamma(rng, a);
  const y = gamma(rng, b);
  const sum = x + y;
  // Both gammas can underflow to 0 for tiny shapes; the limit is a Bernoulli(a / (a + b)) draw.
  if (sum === 0) return rng.next() < a / (a + b) ? 1 : 0;
  return x / sum;
};
