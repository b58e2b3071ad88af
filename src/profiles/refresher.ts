import type { Store } from '../store/index.js';
import type { ProfileService } from './service.js';

export interface SweepResult {
  profiles: number;
  entered: number;
  exited: number;
}

/**
 * Keeps segment membership true while customers are silent: walks every live profile in id order, in small
 * write transactions (so ingest interleaves), and re-evaluates its segments at the current time.
 */
export class SegmentRefresher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SweepResult> | undefined;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly profiles: ProfileService,
    private readonly opts: { intervalMs: number; batchSize: number; onError?: (err: unknown) => void },
  ) {}

  /** One full sweep. Concurrent calls share the sweep in progress. */
  sweep(): Promise<SweepResult> {
    this.running ??= this.walk().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Sweeps now, then every interval, until stop(). An interval of 0 disables it. */
  start(): void {
    if (this.opts.intervalMs <= 0 || this.timer !== undefined) return;
    const tick = () => {
      this.sweep()
        .catch((err: unknown) => this.opts.onError?.(err))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.opts.intervalMs).unref();
        });
    };
    this.timer = setTimeout(tick, 0).unref();
  }

  /** Stops scheduling and waits for a sweep in progress to reach the end of its current batch. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  private async walk(): Promise<SweepResult> {
    const result: SweepResult = { profiles: 0, entered: 0, exited: 0 };
    let cursor: string | undefined;
    do {
      if (this.stopped) break;
      const page = await this.store.read.profileIds(
        cursor === undefined ? { limit: this.opts.batchSize } : { cursor, limit: this.opts.batchSize },
      );
      await this.store.write(async (w) => {
        for (const id of page.items) {
          const changes = await this.profiles.refresh(w, id);
          result.entered += changes.entered.length;
          result.exited += changes.exited.length;
        }
      });
      result.profiles += page.items.length;
      cursor = page.next;
    } while (cursor !== undefined);
    return result;
  }
}
