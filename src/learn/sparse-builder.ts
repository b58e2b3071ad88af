import type { SparseFeatures } from '../domain/decision.js';

/**
 * Collects (slot, value) pairs and sums the values of repeated slots, so the result has unique indices (hash
 * collisions and repeated features such as two tags hashing alike). O(n): an open-addressing table that is reused
 * across vectors and "cleared" by bumping a generation stamp instead of zeroing it.
 */
export class SparseBuilder {
  private keys = new Int32Array(256);
  private pos = new Int32Array(256);
  private stamps = new Uint32Array(256);
  private generation = 1;
  private idx: number[] = [];
  private val: number[] = [];

  /** Adds `value` at `slot` (a non-negative 31-bit integer). Zero values carry nothing and are dropped. */
  add(slot: number, value: number): void {
    if (value === 0) return;
    if (this.idx.length * 2 >= this.keys.length) this.grow();
    const mask = this.keys.length - 1;
    let h = Math.imul(slot, 0x9e3779b1) >>> 7;
    for (;;) {
      h &= mask;
      if (this.stamps[h] !== this.generation) break;
      if (this.keys[h] === slot) {
        const at = this.pos[h] ?? 0;
        this.val[at] = (this.val[at] ?? 0) + value;
        return;
      }
      h++;
    }
    this.stamps[h] = this.generation;
    this.keys[h] = slot;
    this.pos[h] = this.idx.length;
    this.idx.push(slot);
    this.val.push(value);
  }

  /** Returns the vector built so far (in first-seen order) and starts a new one. */
  take(): SparseFeatures {
    const out = { idx: this.idx, val: this.val };
    this.idx = [];
    this.val = [];
    this.nextGeneration();
    return out;
  }

  private nextGeneration(): void {
    this.generation = (this.generation + 1) >>> 0;
    if (this.generation === 0) {
      this.stamps.fill(0);
      this.generation = 1;
    }
  }

  private grow(): void {
    const size = this.keys.length * 2;
    this.keys = new Int32Array(size);
    this.pos = new Int32Array(size);
    this.stamps = new Uint32Array(size);
    this.generation = 1;
    const mask = size - 1;
    for (let i = 0; i < this.idx.length; i++) {
      const slot = this.idx[i] ?? 0;
      let h = (Math.imul(slot, 0x9e3779b1) >>> 7) & mask;
      while (this.stamps[h] === 1) h = (h + 1) & mask;
      this.stamps[h] = 1;
      this.keys[h] = slot;
      this.pos[h] = i;
    }
  }
}
