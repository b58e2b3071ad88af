/** A min-heap of timed items (earliest first; equal times in insertion order): the customers' next moves. */
export class Agenda<T extends { at: number }> {
  private readonly heap: Array<{ item: T; seq: number }> = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(item: T): void {
    const h = this.heap;
    h.push({ item, seq: this.seq++ });
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** The earliest item if it is due at or before `t`. */
  popDue(t: number): T | undefined {
    const h = this.heap;
    const top = h[0];
    if (top === undefined || top.item.at > t) return undefined;
    const last = h.pop() as { item: T; seq: number };
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(l, m)) m = l;
        if (r < h.length && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top.item;
  }

  private less(a: number, b: number): boolean {
    const x = this.heap[a] as { item: T; seq: number };
    const y = this.heap[b] as { item: T; seq: number };
    return x.item.at < y.item.at || (x.item.at === y.item.at && x.seq < y.seq);
  }

  private swap(a: number, b: number): void {
    const h = this.heap;
    [h[a], h[b]] = [h[b] as { item: T; seq: number }, h[a] as { item: T; seq: number }];
  }
}
