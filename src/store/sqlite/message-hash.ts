/**
 * A 53-bit hash of (source, messageId) for the dedup index (cyrb53, public domain, by bryc). An integer key
 * makes the index several times smaller than one over the two strings, so far fewer of its pages are dirtied
 * per commit. Equal hashes are checked against the stored strings, so a collision never drops an event.
 */
export const messageHash = (source: string, messageId: string): number => {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  const text = `${source}\u0000${messageId}`;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
};
