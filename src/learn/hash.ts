/**
 * 32-bit hashing for the hashing trick (Weinberger et al. 2009, "Feature Hashing for Large Scale Multitask
 * Learning"). FNV-1a consumes the characters (one xor and one multiply each, and it can continue across several
 * strings, so `t:` + key + `=` + value is hashed without building the joined string); murmur3's fmix32 finaliser
 * then spreads FNV's weak low bits, which matter because a slot is taken as `hash & mask`.
 */

export const FNV_OFFSET = 0x811c9dc5;

/** Continues an FNV-1a hash `h` over the UTF-16 code units of `s`. Returns an unfinalised 32-bit state. */
export const fnv = (h: number, s: string): number => {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
};

/** murmur3's 32-bit finaliser: every input bit affects every output bit. Returns an unsigned 32-bit integer. */
export const fmix32 = (h: number): number => {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
};

/** The finished hash of one string, unsigned 32-bit. */
export const hashString = (s: string): number => fmix32(fnv(FNV_OFFSET, s));

/**
 * Crosses a feature slot with an arm (Chapelle & Li 2011 share one weight table among arms this way): a different
 * pseudo-random slot per (feature, arm) pair. Returns an unsigned 32-bit integer; mask it to the table size.
 */
export const crossSlot = (idx: number, armHash: number): number => fmix32(armHash ^ crossMix(idx));

/**
 * The arm-independent half of `crossSlot`: `crossSlot(idx, h) === fmix32(h ^ crossMix(idx))`. Scoring one feature
 * vector against many arms computes it once per feature instead of once per (feature, arm). A signed 32-bit
 * integer (fits an Int32Array).
 */
export const crossMix = (idx: number): number => Math.imul(idx + 0x9e3779b9, 0xcc9e2d51);
