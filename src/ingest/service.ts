import type { EventType, PathwiseEvent } from '../domain/index.js';
import type { PathwiseConfig } from '../config/index.js';
import type { Store, DeadLetterInput } from '../store/index.js';
import type { ProfileService } from '../profiles/index.js';
import type { ErrorCode } from '../errors.js';
import { normalizeEvent, type NormalizeContext } from './normalize.js';
import { parseBatchEnvelope } from './batch.js';
import { jsonByteLength } from './size.js';
import { checkTrackingPlan } from './tracking-plan.js';
import { GroupCommitter, type CommitHooks, type Entry } from './committer.js';
import { noMetrics, type IngestMetrics } from './metrics.js';

export type Outcome =
  | { status: 'accepted'; messageId: string; profileId: string; violations?: string[] }
  | { status: 'duplicate'; messageId: string }
  /** The event names an erased person: acknowledged as if accepted, but not stored (docs/privacy.md). */
  | { status: 'erased'; messageId: string }
  | {
      status: 'rejected';
      code: ErrorCode;
      /** The field at fault as a path into the request (`batch[3].userId`); '' when it is the call as a whole. */
      field: string;
      reason: string;
      /** One line for people: the field and the reason. */
      message: string;
      messageId?: string;
    };

export interface IngestDeps {
  store: Store;
  profiles: ProfileService;
  now: () => number;
  newId: () => string;
  metrics?: IngestMetrics;
  hooks?: CommitHooks;
}

/** Dead-letter payloads are kept whole up to this size, so a hostile client cannot bloat the store. */
const MAX_DEAD_PAYLOAD = 64 * 1024;

/**
 * The ingest application service: validates and normalises Segment calls, applies the tracking plan, and
 * hands accepted events and dead letters to the group committer. Used by the HTTP API and by bulk import.
 */
export class IngestService {
  private readonly committer: GroupCommitter;
  private readonly metrics: IngestMetrics;

  constructor(
    private readonly config: Pick<PathwiseConfig, 'trackingPlan' | 'ingest'>,
    private readonly deps: IngestDeps,
  ) {
    this.metrics = deps.metrics ?? noMetrics;
    this.committer = new GroupCommitter(deps.store, deps.profiles, this.metrics, deps.hooks);
  }

  /** One Segment call (`/v1/track` …); the type comes from the route. */
  async ingestOne(
    source: string,
    type: EventType,
    raw: unknown,
    receivedAt = this.deps.now(),
  ): Promise<Outcome> {
    const [outcome] = await this.ingestItems(source, [raw], { type, receivedAt });
    return outcome as Outcome;
  }

  /** A `/v1/batch` envelope. An envelope that is not a batch at all is reported as one rejection. */
  async ingestBatch(source: string, raw: unknown, receivedAt = this.deps.now()): Promise<Outcome[]> {
    const env = parseBatchEnvelope(raw);
    if (!env.ok) {
      const rejected = this.reject(source, receivedAt, 'PW_ERR_INGEST_INVALID', env.field, env.reason, raw);
      await this.committer.submit([rejected.entry]);
      this.metrics.events(source, 'rejected', 1);
      return [rejected.outcome];
    }
    return this.ingestItems(source, env.items, {
      receivedAt,
      ...(env.sentAt === undefined ? {} : { batchSentAt: env.sentAt }),
      ...(env.context === undefined ? {} : { batchContext: env.context }),
      fieldPrefix: 'batch',
    });
  }

  /**
   * Validates each item and commits the valid ones with the dead letters in one group transaction.
   * `fieldPrefix` makes error paths point into the request (`batch[3].userId`).
   */
  async ingestItems(
    source: string,
    items: readonly unknown[],
    opts: {
      type?: EventType;
      receivedAt: number;
      batchSentAt?: number;
      batchContext?: PathwiseEvent['context'];
      fieldPrefix?: string;
      /** False for historical data (bulk import): keep the sent timestamps as they are. */
      correctSkew?: boolean;
    },
  ): Promise<Outcome[]> {
    const outcomes: Outcome[] = new Array(items.length);
    const entries: Entry[] = [];
    // Where each entry's outcome goes: the item's index for events, -1 for dead letters (outcome known now).
    const slots: number[] = [];
    const ctx: NormalizeContext = {
      source,
      receivedAt: opts.receivedAt,
      newId: this.deps.newId,
      ...(opts.batchSentAt === undefined ? {} : { batchSentAt: opts.batchSentAt }),
      ...(opts.batchContext === undefined ? {} : { batchContext: opts.batchContext }),
      ...(opts.correctSkew === undefined ? {} : { correctSkew: opts.correctSkew }),
    };
    items.forEach((raw, i) => {
      const at = opts.fieldPrefix === undefined ? '' : `${opts.fieldPrefix}[${i}]`;
      const checked = this.check(raw, at, opts.type, ctx);
      if ('outcome' in checked) {
        outcomes[i] = checked.outcome;
        entries.push(checked.entry);
        slots.push(-1);
      } else {
        entries.push(checked);
        slots.push(i);
      }
    });

    const stored = await this.committer.submit(entries);
    let accepted = 0;
    let duplicates = 0;
    let erased = 0;
    stored.forEach((s, k) => {
      const i = slots[k];
      if (i === undefined || i < 0) return;
      const entry = entries[k] as Extract<Entry, { event: PathwiseEvent }>;
      if (s.status === 'accepted') {
        accepted++;
        outcomes[i] = {
          status: 'accepted',
          messageId: entry.event.messageId,
          profileId: s.profileId,
          ...(entry.violations ? { violations: entry.violations } : {}),
        };
      } else if (s.status === 'erased') {
        erased++;
        outcomes[i] = { status: 'erased', messageId: entry.event.messageId };
      } else {
        duplicates++;
        outcomes[i] = { status: 'duplicate', messageId: entry.event.messageId };
      }
    });
    this.metrics.events(source, 'accepted', accepted);
    this.metrics.events(source, 'duplicate', duplicates);
    this.metrics.events(source, 'erased', erased);
    this.metrics.events(source, 'rejected', items.length - accepted - duplicates - erased);
    return outcomes;
  }

  /**
   * Size, Segment-spec validation and tracking plan for one item. Returns the event to store, or the
   * rejection (with its dead letter). `at` is the item's path in the request (`batch[3]`), '' for a single call.
   */
  private check(
    raw: unknown,
    at: string,
    type: EventType | undefined,
    ctx: NormalizeContext,
  ): Extract<Entry, { event: PathwiseEvent }> | { outcome: Outcome; entry: Entry } {
    const path = (f: string) => (at === '' ? f : f === '' ? at : `${at}.${f}`);
    const size = jsonByteLength(raw);
    const limit = this.config.ingest.maxEventBytes;
    if (size > limit) {
      return this.reject(
        ctx.source,
        ctx.receivedAt,
        'PW_ERR_INGEST_TOO_LARGE',
        path(''),
        `event is ${size} bytes; the limit is ${limit} bytes per event`,
        raw,
      );
    }
    const n = normalizeEvent(raw, type, ctx);
    if (!n.ok)
      return this.reject(ctx.source, ctx.receivedAt, 'PW_ERR_INGEST_INVALID', path(n.field), n.reason, raw);
    const plan = this.config.trackingPlan;
    const violations = plan ? checkTrackingPlan(n.event, plan) : [];
    if (violations.length === 0) return { event: n.event };
    if (plan?.mode !== 'reject') return { event: n.event, violations };
    return this.reject(
      ctx.source,
      ctx.receivedAt,
      'PW_ERR_INGEST_TRACKING_PLAN',
      path(violations[0]?.split(':')[0] ?? ''),
      violations.join('; '),
      raw,
      undefined,
      `tracking plan violation: ${violations.map((v) => path(v)).join('; ')}`,
    );
  }

  /** A request body that is not JSON at all: kept as text in the dead-letter table. */
  async rejectBody(source: string, text: string, parseError: string): Promise<Outcome> {
    const r = this.reject(
      source,
      this.deps.now(),
      'PW_ERR_INGEST_BODY',
      '',
      `body is not valid JSON (${parseError})`,
      text,
    );
    await this.committer.submit([r.entry]);
    this.metrics.events(source, 'rejected', 1);
    return r.outcome;
  }

  private reject(
    source: string,
    receivedAt: number,
    code: ErrorCode,
    field: string,
    reason: string,
    raw: unknown,
    messageId?: string,
    message = field === '' ? reason : `${field}: ${reason}`,
  ): { outcome: Outcome; entry: Entry } {
    const id = messageId ?? messageIdOf(raw);
    let payload = typeof raw === 'string' ? raw : safeStringify(raw);
    if (payload.length > MAX_DEAD_PAYLOAD) payload = `${payload.slice(0, MAX_DEAD_PAYLOAD)}…[truncated]`;
    const dead: DeadLetterInput = {
      source,
      receivedAt,
      code,
      ...(field === '' ? {} : { field }),
      reason,
      payload,
      ...(id ? { messageId: id } : {}),
    };
    return {
      outcome: { status: 'rejected', code, field, reason, message, ...(id ? { messageId: id } : {}) },
      entry: { dead },
    };
  }

  /** Rejected payloads, newest first, with times as ISO-8601 (as every API response gives them). */
  async deadLetters(opts: { cursor?: string; limit: number; source?: string }) {
    const page = await this.deps.store.read.deadLetters(opts);
    return {
      ...page,
      items: page.items.map((d) => ({ ...d, receivedAt: new Date(d.receivedAt).toISOString() })),
    };
  }

  /** Events accepted but not yet committed. */
  get pending(): number {
    return this.committer.pending;
  }
}

const messageIdOf = (raw: unknown): string | undefined => {
  if (raw === null || typeof raw !== 'object') return undefined;
  const id = (raw as Record<string, unknown>).messageId;
  return typeof id === 'string' && id.length <= 100 ? id : undefined;
};

const safeStringify = (raw: unknown): string => {
  try {
    return JSON.stringify(raw) ?? String(raw);
  } catch {
    return String(raw);
  }
};
