/**
 * Whether a customer is in the holdout group: a stable hash of (salt, profile id) mapped to [0, 1), so the same
 * customer always stays in or out, and the split is independent of anything the model sees.
 */
export const inHoldout = (profileId: string, holdout: { share: number; salt: string }): boolean =>
  holdout.share > 0 && unitHash(`${holdout.salt}:${profileId}`) < holdout.share;

/** FNV-1a over UTF-16 code units, finished with murmur3's fmix32 so nearby ids spread evenly. */
export const unitHash = (text: string): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
};
