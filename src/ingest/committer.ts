import type { PathwiseEvent } from '../domain/index.js';
import type { DeadLetterInput, Store, StoreWriter } from '../store/index.js';
import type { ProfileService } from '../profiles/index.js';
import type { IngestMetrics } from './metrics.js';

/** One item of a submitted job: an event to store, or a rejected payload to dead-letter. */
export type Entry = { event: PathwiseEvent; violations?: string[] } | { dead: DeadLetterInput };

export type Stored =
  | { status: 'accepted'; seq: number; profileId: string }
  | { status: 'duplicate' }
  /** Names an erased person: acknowledged, not stored (see ProfileService.isErased). */
  | { status: 'erased' }
  | { status: 'dead-lettered' };

/**
 * Runs inside the ingest transaction after an event was applied to its profile (reward attribution does,
 * so an outcome commits atomically with its event). Returns how many decisions it resolved.
 */
export type AfterApply = (
  w: StoreWriter,
  event: PathwiseEvent,
  applied: { profileId: string; entered: readonly string[] },
) => Promise<number>;

export interface CommitHooks {
  afterApply?: AfterApply;
  /** Called after a commit in which `afterApply` resolved decisions (the learner catches up then). */
  resolved?: (count: number) => void;
}

interface Job {
  entries: Entry[];
  resolve: (r: Stored[]) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit: requests that arrive while a transaction runs are written together in the next one, so
 * the cost of a durable commit (an fsync with synchronous=full) is shared by every request in the group.
 * A request is answered only after the transaction holding its events committed: nothing acknowledged is
 * ever lost. If a group fails, its jobs are retried one by one so one bad job cannot fail the others.
 */
export class GroupCommitter {
  private queue: Job[] = [];
  private queued = 0;
  private running = false;

  constructor(
    private readonly store: Store,
    private readonly profiles: ProfileService,
    private readonly metrics: IngestMetrics,
    private readonly hooks: CommitHooks = {},
    private readonly maxGroupEvents = 5000,
  ) {}

  private resolvedInGroup = 0;

  submit(entries: Entry[]): Promise<Stored[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ entries, resolve, reject });
      this.queued += entries.length;
      if (!this.running) {
        this.running = true;
        // Let the requests already parsed in this turn of the event loop join the group.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const group: Job[] = [];
      let n = 0;
      while (
        this.queue.length > 0 &&
        (group.length === 0 || n + (this.queue[0]?.entries.length ?? 0) <= this.maxGroupEvents)
      ) {
        const job = this.queue.shift() as Job;
        n += job.entries.length;
        group.push(job);
      }
      this.queued -= n;
      await this.commitGroup(group, n);
    }
    this.running = false;
  }

  private async commitGroup(group: Job[], n: number): Promise<void> {
    const started = performance.now();
    this.resolvedInGroup = 0;
    try {
      const results = await this.store.write(async (w) => {
        const out: Stored[][] = [];
        for (const job of group) out.push(await this.writeEntries(w, job.entries));
        return out;
      });
      this.metrics.commit((performance.now() - started) / 1000, n);
      if (this.resolvedInGroup > 0) this.hooks.resolved?.(this.resolvedInGroup);
      group.forEach((job, i) => job.resolve(results[i] ?? []));
    } catch (err) {
      if (group.length === 1) {
        group[0]?.reject(err);
        return;
      }
      for (const job of group) await this.commitGroup([job], job.entries.length);
    }
  }

  private async writeEntries(w: StoreWriter, entries: Entry[]): Promise<Stored[]> {
    const out: Stored[] = [];
    for (const entry of entries) {
      if ('dead' in entry) {
        await w.addDeadLetter(entry.dead);
        out.push({ status: 'dead-lettered' });
      } else if (await this.profiles.isErased(w, entry.event)) {
        out.push({ status: 'erased' });
      } else if (await w.hasMessage(entry.event.source, entry.event.messageId)) {
        out.push({ status: 'duplicate' });
      } else {
        const applied = await this.profiles.apply(w, entry.event, entry.violations);
        if (this.hooks.afterApply !== undefined)
          this.resolvedInGroup += await this.hooks.afterApply(w, entry.event, applied);
        out.push({ status: 'accepted', seq: applied.seq, profileId: applied.profileId });
      }
    }
    return out;
  }

  /** Events waiting for the next commit (for load shedding and tests). */
  get pending(): number {
    return this.queued;
  }
}
