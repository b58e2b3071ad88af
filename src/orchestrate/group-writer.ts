import type { Store, StoreWriter } from '../store/index.js';

interface Job<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit for small writes (a decision, an outcome): items submitted while a transaction runs are written
 * together in the next one, so many requests share one durable commit. Each promise resolves only after its
 * item committed. If a group fails, its items are retried one by one so one bad item cannot fail the others.
 */
export class GroupWriter<T, R> {
  private queue: Job<T, R>[] = [];
  private running = false;

  constructor(
    private readonly store: Store,
    private readonly writeOne: (w: StoreWriter, item: T) => Promise<R>,
    private readonly maxGroup = 500,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) await this.commit(this.queue.splice(0, this.maxGroup));
    this.running = false;
  }

  private async commit(group: Job<T, R>[]): Promise<void> {
    try {
      const results = await this.store.write(async (w) => {
        const out: R[] = [];
        for (const job of group) out.push(await this.writeOne(w, job.item));
        return out;
      });
      group.forEach((job, i) => job.resolve(results[i] as R));
    } catch (err) {
      if (group.length === 1) group[0]?.reject(err);
      else for (const job of group) await this.commit([job]);
    }
  }
}
