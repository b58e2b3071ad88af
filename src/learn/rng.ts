/**
 * Seeded randomness for the pure core. Nothing in `learn/` reads `Math.random`: every draw comes from an `Rng`
 * passed in, so a decision, a simulation or a test replays exactly from its seed.
 */

/** A source of uniform numbers in [0, 1). */
export interface Rng {
  next(): number;
}

const TWO_POW_32 = 4294967296;
/** 2^-32: multiplying by it is exact, and the same as dividing by 2^32. */
const TWO_POW_MINUS_32 = 1 / TWO_POW_32;

/*
 * Ziggurat tables for the standard normal (Marsaglia & Tsang 2000, "The Ziggurat Method for Generating Random
 * Variables", with their constants for 128 layers). The density under x ≥ 0 is covered by 128 layers of equal
 * area ZIG_V: layer 0 at the bottom (a box to ZIG_R plus the tail beyond it), layers 127 … 1 stacked above it with
 * right edges x_127 = ZIG_R > … > x_1, the top one under the peak. One 32-bit draw picks the layer (bits 0–6), the
 * sign (bit 7) and a magnitude m (bits 8–31, 24 bits): x = m·x_layer / 2^24. When x is left of the next layer's
 * edge it is under the curve for sure (~99% of draws: one table lookup and one multiply); otherwise the wedge or
 * the tail is sampled exactly (zigguratSlow).
 */
const ZIG_R = 3.442619855899;
const ZIG_V = 9.91256303526217e-3;
const ZIG_SCALE = 16777216; // 2^24, the magnitude's range
/** Per draw index (layer | sign << 7): magnitudes below ZIG_K are inside the layer's sure box. */
const ZIG_K = new Int32Array(256);
/** Per draw index: x per unit of magnitude, signed. */
const ZIG_W = new Float64Array(256);
/** Per layer: the density exp(−x²/2) at its right edge; ZIG_F[0] = 1, the peak. */
const ZIG_F = new Float64Array(128);
{
  const k = new Float64Array(128);
  const w = new Float64Array(128);
  let x = ZIG_R;
  let previous = ZIG_R;
  const f = (t: number): number => Math.exp(-0.5 * t * t);
  const base = ZIG_V / f(ZIG_R); // layer 0's box width, as if the tail were folded into it
  k[0] = Math.floor((ZIG_R / base) * ZIG_SCALE);
  k[1] = 0;
  w[0] = base / ZIG_SCALE;
  w[127] = ZIG_R / ZIG_SCALE;
  ZIG_F[0] = 1;
  ZIG_F[127] = f(ZIG_R);
  for (let i = 126; i >= 1; i--) {
    x = Math.sqrt(-2 * Math.log(ZIG_V / x + f(x)));
    k[i + 1] = Math.floor((x / previous) * ZIG_SCALE);
    previous = x;
    ZIG_F[i] = f(x);
    w[i] = x / ZIG_SCALE;
  }
  for (let i = 0; i < 256; i++) {
    ZIG_K[i] = k[i & 127] ?? 0;
    ZIG_W[i] = (i & 128 ? -1 : 1) * (w[i & 127] ?? 0);
  }
}

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Chaotic generator, PractRand-clean to many terabytes): four 32-bit
 * words of state, a handful of integer ops per draw. Resolution is 2^-32, enough for sampling and propensities.
 */
class Sfc32 implements Rng {
  /**
   * The four words a, b, c, d. An Int32Array, not four fields: the words leave the 31-bit small-integer range,
   * and number fields would then box every store (a heap allocation per draw).
   */
  private readonly s = new Int32Array(4);

  constructor(a: number, b: number, c: number, d: number) {
    this.s[0] = a;
    this.s[1] = b;
    this.s[2] = c;
    this.s[3] = d;
  }

  next(): number {
    return (this.int32() >>> 0) * TWO_POW_MINUS_32;
  }

  /** The next 32-bit output as a signed integer (the same draw `next()` scales to [0, 1)). */
  int32(): number {
    const s = this.s;
    const a = s[0] as number;
    const b = s[1] as number;
    const c = s[2] as number;
    const d = s[3] as number;
    const t = (((a + b) | 0) + d) | 0;
    s[3] = d + 1;
    s[0] = b ^ (b >>> 9);
    s[1] = c + (c << 3);
    s[2] = ((c << 21) | (c >>> 11)) + t;
    return t;
  }

  /**
   * `normal(this)` n times into out[0 … n): the same deviates, with the state held in locals (several times
   * faster than a call per deviate when many are needed at once).
   */
  fillNormal(out: Float64Array, n: number): void {
    const s = this.s;
    let a = s[0] as number;
    let b = s[1] as number;
    let c = s[2] as number;
    let d = s[3] as number;
    for (let k = 0; k < n; k++) {
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (((c << 21) | (c >>> 11)) + t) | 0;
      const i = t & 255;
      const m = t >>> 8;
      if (m < (ZIG_K[i] as number)) {
        out[k] = m * (ZIG_W[i] as number);
      } else {
        s[0] = a;
        s[1] = b;
        s[2] = c;
        s[3] = d;
        out[k] = zigguratSlow(this, t);
        a = s[0] as number;
        b = s[1] as number;
        c = s[2] as number;
        d = s[3] as number;
      }
    }
    s[0] = a;
    s[1] = b;
    s[2] = c;
    s[3] = d;
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

/** 32 random bits as a signed integer: sfc32's raw output, or the top 32 bits of another generator's uniform. */
const int32 = (rng: Rng): number => (rng instanceof Sfc32 ? rng.int32() : (rng.next() * TWO_POW_32) | 0);

/** A uniform in the open interval (0, 1), for logarithms. */
const open01 = (rng: Rng): number => ((int32(rng) >>> 0) + 0.5) * TWO_POW_MINUS_32;

/** The ziggurat's rare cases (~1% of draws), starting from the 32-bit draw `u` that missed the sure box. */
const zigguratSlow = (rng: Rng, u: number): number => {
  for (;;) {
    const i = u & 255;
    const layer = i & 127;
    const m = u >>> 8;
    if (m < (ZIG_K[i] as number)) return m * (ZIG_W[i] as number);
    if (layer === 0) {
      // The tail beyond ZIG_R (Marsaglia 1964): x = −ln(U₁)/r, accepted when −2·ln(U₂) ≥ x².
      let x: number;
      let y: number;
      do {
        x = -Math.log(open01(rng)) / ZIG_R;
        y = -Math.log(open01(rng));
      } while (y + y < x * x);
      return i & 128 ? -(ZIG_R + x) : ZIG_R + x;
    }
    // The wedge between the layer's sure box and the curve: accept under the density.
    const x = m * (ZIG_W[i] as number);
    const top = ZIG_F[layer - 1] as number;
    const bottom = ZIG_F[layer] as number;
    if (bottom + open01(rng) * (top - bottom) < Math.exp(-0.5 * x * x)) return x;
    u = int32(rng);
  }
};

/**
 * A standard normal deviate, by the ziggurat method (Marsaglia & Tsang 2000): on the hot path (thousands of
 * Thompson draws per decision), and ~99% of calls cost one 32-bit draw, a comparison and a multiply. Exact up to
 * the 24-bit magnitude of a draw (x is a multiple of x_layer·2^-24). No state besides the generator's, so
 * generators never disturb each other's sequence.
 */
export const normal = (rng: Rng): number => {
  const u = int32(rng);
  const i = u & 255;
  const m = u >>> 8;
  if (m < (ZIG_K[i] as number)) return m * (ZIG_W[i] as number);
  return zigguratSlow(rng, u);
};

/** n standard normal deviates into out[0 … n): the same as n calls of `normal(rng)`, faster for our generator. */
export const fillNormal = (rng: Rng, out: Float64Array, n: number): void => {
  if (n > out.length) throw new Error(`fillNormal: ${n} deviates do not fit in ${out.length}`);
  if (rng instanceof Sfc32) {
    rng.fillNormal(out, n);
    return;
  }
  for (let k = 0; k < n; k++) out[k] = normal(rng);
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
