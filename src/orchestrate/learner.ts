import { NOTHING, type DecisionMode } from '../domain/index.js';
import { BanditModel, SNAPSHOT_FORMAT } from '../learn/index.js';
import type { ModelConfig } from '../config/index.js';
import type { ResolvedRecord, Store } from '../store/index.js';

/** Decisions whose outcome teaches the model: a real choice, or a holdout customer's "nothing" (the baseline). */
export const LEARNABLE: ReadonlySet<DecisionMode> = new Set(['exploit', 'explore', 'holdout']);

export interface LearnerOptions {
  /** Save a snapshot when this many updates happened since the last one (and on close). */
  snapshotEvery: number;
  now: () => number;
  /** Called with how many decisions the model just learned from (metrics). */
  onLearned?: (n: number) => void;
}

/**
 * Keeps the model in step with the reward log. The store is the source of truth: every resolved decision has
 * a `resolvedSeq`; the model applies them in that order, and a snapshot records the last one applied. On
 * start the newest snapshot is loaded and the log after it replayed, so a crash loses no learning.
 */
export class Learner {
  private appliedSeq = 0;
  private savedVersion = 0;
  private catching: Promise<void> | undefined;
  private again = false;

  private constructor(
    private readonly store: Store,
    public model: BanditModel,
    private readonly opts: LearnerOptions,
  ) {}

  static async open(store: Store, settings: ModelConfig, opts: LearnerOptions): Promise<Learner> {
    const snap = await store.read.latestModelSnapshot();
    let model = new BanditModel(settings);
    let seq = 0;
    const data = snap === undefined ? undefined : (JSON.parse(snap.data) as { format?: unknown });
    // A snapshot of an older format (another weight layout) cannot be read: relearn from the whole log.
    if (snap !== undefined && data?.format === SNAPSHOT_FORMAT) {
      const loaded = BanditModel.fromSnapshot(data);
      // A snapshot taken with other model settings cannot be reused: relearn from the whole log.
      const same =
        loaded.settings.featureBits === settings.featureBits &&
        loaded.settings.priorVariance === settings.priorVariance &&
        loaded.settings.minObservations === settings.minObservations;
      if (same) {
        model = loaded;
        seq = snap.resolvedSeq;
      }
    }
    const learner = new Learner(store, model, opts);
    learner.appliedSeq = seq;
    learner.savedVersion = model.version;
    await learner.catchUp();
    return learner;
  }

  /** Applies every resolved decision not yet learned from. Concurrent calls coalesce. */
  catchUp(): Promise<void> {
    if (this.catching !== undefined) {
      this.again = true;
      return this.catching;
    }
    this.catching = (async () => {
      try {
        do {
          this.again = false;
          for (;;) {
            const batch = await this.store.read.resolvedSince(this.appliedSeq, 1000);
            let learned = 0;
            for (const r of batch) if (this.apply(r)) learned++;
            this.opts.onLearned?.(learned);
            if (batch.length < 1000) break;
          }
        } while (this.again);
        if (this.model.version - this.savedVersion >= this.opts.snapshotEvery) await this.snapshot();
      } finally {
        this.catching = undefined;
      }
    })();
    return this.catching;
  }

  private apply(r: ResolvedRecord): boolean {
    this.appliedSeq = r.resolvedSeq;
    if (!LEARNABLE.has(r.mode)) return false;
    this.model.update(r.actionId ?? NOTHING, r.features, r.reward);
    return true;
  }

  /** Saves the model with the position in the reward log it has learned up to. */
  async snapshot(): Promise<void> {
    if (this.model.version === this.savedVersion) return;
    const version = this.model.version;
    const data = JSON.stringify(this.model.snapshot());
    const resolvedSeq = this.appliedSeq;
    await this.store.write((w) => w.saveModelSnapshot({ version, at: this.opts.now(), resolvedSeq, data }));
    this.savedVersion = version;
  }

  get learnedUpTo(): number {
    return this.appliedSeq;
  }
}
