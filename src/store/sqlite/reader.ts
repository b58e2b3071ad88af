import { sql, type Kysely } from 'kysely';
import type {
  AuditEntry,
  Decision,
  Delivery,
  IdentityKey,
  Json,
  MergeRecord,
  Profile,
  Timer,
} from '../../domain/index.js';
import type {
  ContactRecord,
  DeadLetter,
  ProfileExport,
  ModelSnapshot,
  Page,
  ResolvedRecord,
  StoredDecision,
  StoreReader,
  TimelineItem,
} from '../store.js';
import type { Database } from './schema.js';
import type BetterSqlite3 from 'better-sqlite3';
import { HotReads } from './hot-reads.js';
import { PrivacyReads } from './privacy-reader.js';
import { checkLimit, decodeCursor, encodeCursor } from './cursor.js';
import * as decisions from './decision-reader.js';
import * as outbox from './outbox-reader.js';
import { toDeadLetter, toMerge, toMergeSummary, toProfile, toStoredEvent } from './rows.js';

/** Merges can only chain as far as profiles were folded; a longer walk means a corrupt pointer cycle. */
const MAX_HOPS = 64;

/**
 * Timeline order is (at, seq, rank) descending. Each kind of item has its own seq (its table's), so the rank
 * breaks the tie between items of different kinds at the same (at, seq).
 */
const RANK = { event: 0, merge: 1, decision: 2 } as const satisfies Record<TimelineItem['kind'], number>;
type Position = [at: number, seq: number, rank: number];

const before = (a: Position, b: Position): boolean =>
  a[0] !== b[0] ? a[0] > b[0] : a[1] !== b[1] ? a[1] > b[1] : a[2] > b[2];

/** Rows of a kind ranked `rank` that come after the cursor: at the cursor's own (at, seq), lower ranks do. */
const follows = (time: string, rank: number, after: Position) =>
  sql<boolean>`(${sql.ref(time)}, seq) ${sql.raw(rank < after[2] ? '<=' : '<')} (${after[0]}, ${after[1]})`;

/**
 * Cold reads through kysely on the read connection. With a file database that connection sees only
 * committed data (WAL), so reads never observe a write transaction still in progress.
 */
export class SqliteReader implements StoreReader {
  private hotReads: HotReads | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    /** Whether multi-query reads may open their own read transaction (not on a shared single connection). */
    private readonly snapshots: boolean,
    /** The raw read connection, for the prepared hot-path reads (prepared on first use: after migrations). */
    private readonly raw: BetterSqlite3.Database | undefined,
    /** The read connection itself (the writer's, for an in-memory database), for the privacy reads. */
    conn: BetterSqlite3.Database,
  ) {
    this.privacy = new PrivacyReads(conn);
  }

  private readonly privacy: PrivacyReads;

  private get hot(): HotReads | undefined {
    if (this.raw === undefined) return undefined;
    this.hotReads ??= new HotReads(this.raw);
    return this.hotReads;
  }

  async resolveProfileId(identifier: string): Promise<string | undefined> {
    const direct = await this.follow(identifier);
    if (direct !== undefined) return direct;
    const colon = identifier.indexOf(':');
    if (colon > 0) {
      const id = await this.identity(identifier.slice(0, colon), identifier.slice(colon + 1));
      if (id !== undefined) return (await this.follow(id)) ?? id;
    }
    // A bare value (which may itself contain a colon, like `auth0:123`): a userId first, then any kind.
    const kinds = (await this.db.selectFrom('identity_kinds').select('kind').orderBy('kind').execute()).map(
      (r) => r.kind,
    );
    for (const kind of ['userId', ...kinds.filter((k) => k !== 'userId')]) {
      const id = await this.identity(kind, identifier);
      if (id !== undefined) return (await this.follow(id)) ?? id;
    }
    return undefined;
  }

  async getProfile(id: string): Promise<Profile | undefined> {
    const hot = this.hot;
    if (hot !== undefined) {
      const found = hot.profile(id);
      return found === undefined ? undefined : toProfile(found);
    }
    const row = await this.db
      .selectFrom('profiles')
      .selectAll()
      .where('id', '=', id)
      .where('merged_into', 'is', null)
      .executeTakeFirst();
    return row === undefined ? undefined : toProfile(row);
  }

  async identitiesOf(profileId: string): Promise<IdentityKey[]> {
    return this.db
      .selectFrom('identities')
      .select(['kind', 'value'])
      .where('profile_id', '=', profileId)
      .orderBy('created_at')
      .orderBy('kind')
      .orderBy('value')
      .execute();
  }

  async timeline(profileId: string, opts: { cursor?: string; limit: number }): Promise<Page<TimelineItem>> {
    const limit = checkLimit(opts.limit);
    const after: Position | undefined =
      opts.cursor === undefined
        ? undefined
        : decodeCursor(opts.cursor, 't', ['number', 'number', 'number'] as const);
    const [events, merges, decided] = await this.snapshot((db) =>
      Promise.all([
        this.timelineEvents(db, profileId, limit, after),
        this.timelineMerges(db, profileId, limit, after),
        decisions.timelineDecisions(
          db,
          profileId,
          limit,
          after === undefined ? undefined : follows('at', RANK.decision, after),
        ),
      ]),
    );
    // Each kind is already sorted and holds at most limit + 1 rows: merge them and keep the newest.
    const all = [...events, ...merges, ...decided].sort((a, b) =>
      before([a.at, a.seq, rank(a)], [b.at, b.seq, rank(b)]) ? -1 : 1,
    );
    const items = all.slice(0, limit);
    const last = items[items.length - 1];
    return all.length > limit && last !== undefined
      ? { items, next: encodeCursor('t', [last.at, last.seq, rank(last)]) }
      : { items };
  }

  private async timelineEvents(db: Kysely<Database>, profileId: string, limit: number, after?: Position) {
    let q = db.selectFrom('events').selectAll().where('profile_id', '=', profileId);
    if (after !== undefined) q = q.where(follows('ts', RANK.event, after));
    const rows = await q
      .orderBy('ts', 'desc')
      .orderBy('seq', 'desc')
      .limit(limit + 1)
      .execute();
    return rows.map((row): TimelineItem => ({
      kind: 'event',
      at: row.ts,
      seq: row.seq,
      event: toStoredEvent(row),
    }));
  }

  /** Merges into this profile, and into the profiles folded into it (their history is now its history). */
  private async timelineMerges(db: Kysely<Database>, profileId: string, limit: number, after?: Position) {
    let q = db
      .selectFrom('merges')
      .select([
        'seq',
        'id',
        'at',
        'cause',
        'into_profile_id',
        'from_profile_id',
        'outcome',
        'message_id',
        'source',
        'reason',
      ])
      .where((eb) =>
        eb.or([
          eb('into_profile_id', '=', profileId),
          eb(
            'into_profile_id',
            'in',
            eb.selectFrom('profiles').select('id').where('merged_into', '=', profileId),
          ),
        ]),
      );
    if (after !== undefined) q = q.where(follows('at', RANK.merge, after));
    const rows = await q
      .orderBy('at', 'desc')
      .orderBy('seq', 'desc')
      .limit(limit + 1)
      .execute();
    return rows.map((row): TimelineItem => ({
      kind: 'merge',
      at: row.at,
      seq: row.seq,
      merge: toMergeSummary(row),
    }));
  }

  async profilesInSegment(segment: string, opts: { cursor?: string; limit: number }): Promise<Page<string>> {
    const limit = checkLimit(opts.limit);
    let q = this.db.selectFrom('profile_segments').select('profile_id').where('segment', '=', segment);
    if (opts.cursor !== undefined)
      q = q.where('profile_id', '>', decodeCursor(opts.cursor, 's', ['string'] as const)[0]);
    const ids = (
      await q
        .orderBy('profile_id')
        .limit(limit + 1)
        .execute()
    ).map((r) => r.profile_id);
    return page(ids, limit, (id) => encodeCursor('s', [id]));
  }

  async profileIds(opts: { cursor?: string; limit: number }): Promise<Page<string>> {
    const limit = checkLimit(opts.limit);
    let q = this.db.selectFrom('profiles').select('id').where('merged_into', 'is', null);
    if (opts.cursor !== undefined)
      q = q.where('id', '>', decodeCursor(opts.cursor, 'p', ['string'] as const)[0]);
    const ids = (
      await q
        .orderBy('id')
        .limit(limit + 1)
        .execute()
    ).map((r) => r.id);
    return page(ids, limit, (id) => encodeCursor('p', [id]));
  }

  async deadLetters(opts: { cursor?: string; limit: number; source?: string }): Promise<Page<DeadLetter>> {
    const limit = checkLimit(opts.limit);
    let q = this.db.selectFrom('dead_letters').selectAll();
    if (opts.source !== undefined) q = q.where('source', '=', opts.source);
    if (opts.cursor !== undefined)
      q = q.where('id', '<', decodeCursor(opts.cursor, 'd', ['number'] as const)[0]);
    const rows = await q
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
    return page(rows.map(toDeadLetter), limit, (d) => encodeCursor('d', [d.id]));
  }

  async merges(profileId: string): Promise<MergeRecord[]> {
    const rows = await this.db
      .selectFrom('merges')
      .selectAll()
      .where((eb) => eb.or([eb('into_profile_id', '=', profileId), eb('from_profile_id', '=', profileId)]))
      .orderBy('at')
      .orderBy('seq')
      .execute();
    return rows.map(toMerge);
  }

  async countEvents(): Promise<number> {
    const row = await this.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return row.n;
  }

  getDecision(id: string): Promise<StoredDecision | undefined> {
    const hot = this.hot;
    if (hot !== undefined) return Promise.resolve(hot.getDecision(id));
    return this.snapshot((db) => decisions.getDecision(db, id));
  }

  recentDecisions(profileId: string, since: number): Promise<ContactRecord[]> {
    const hot = this.hot;
    if (hot !== undefined) return Promise.resolve(hot.recentDecisions(profileId, since));
    return decisions.recentDecisions(this.db, profileId, since);
  }

  lastGoalAt(profileId: string): Promise<number | undefined> {
    return decisions.lastGoalAt(this.db, profileId);
  }

  actionSendCounts(since: number): Promise<Map<string, number>> {
    return decisions.actionSendCounts(this.db, since);
  }

  expiredDecisions(now: number, limit: number): Promise<Decision[]> {
    return decisions.expiredDecisions(this.db, now, limit);
  }

  resolvedSince(afterSeq: number, limit: number): Promise<ResolvedRecord[]> {
    return decisions.resolvedSince(this.db, afterSeq, limit);
  }

  latestModelSnapshot(): Promise<ModelSnapshot | undefined> {
    return decisions.latestModelSnapshot(this.db);
  }

  dueDeliveries(now: number, limit: number): Promise<Delivery[]> {
    return outbox.dueDeliveries(this.db, now, limit);
  }

  getDelivery(id: string): Promise<Delivery | undefined> {
    return outbox.getDelivery(this.db, id);
  }

  deliveriesOf(profileId: string): Promise<Delivery[]> {
    return outbox.deliveriesOf(this.db, profileId);
  }

  dueTimers(now: number, limit: number): Promise<Timer[]> {
    return outbox.dueTimers(this.db, now, limit);
  }

  countTimers(profileId?: string): Promise<number> {
    return outbox.countTimers(this.db, profileId);
  }

  auditLog(opts: { cursor?: string; limit: number }): Promise<Page<AuditEntry>> {
    return outbox.auditLog(this.db, opts);
  }

  controls(): Promise<Map<string, Json>> {
    return outbox.controls(this.db);
  }

  async exportProfile(profileId: string): Promise<ProfileExport | undefined> {
    return this.privacy.exportProfile(profileId);
  }

  async isTombstoned(keys: IdentityKey[]): Promise<boolean> {
    return this.privacy.isTombstoned(keys);
  }

  /** The live profile a profile id leads to, following merge pointers; undefined if no such profile. */
  private async follow(id: string): Promise<string | undefined> {
    let current = id;
    const hot = this.hot;
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      const row =
        hot === undefined
          ? await this.db
              .selectFrom('profiles')
              .select('merged_into')
              .where('id', '=', current)
              .executeTakeFirst()
          : ((m) => (m === undefined ? undefined : { merged_into: m }))(hot.mergedInto(current));
      // A pointer to a profile not saved yet still names the survivor.
      if (row === undefined) return hop === 0 ? undefined : current;
      if (row.merged_into === null) return current;
      current = row.merged_into;
    }
    throw new Error(`merge pointers from profile ${id} do not end after ${MAX_HOPS} hops`);
  }

  private async identity(kind: string, value: string): Promise<string | undefined> {
    if (this.hot !== undefined) return this.hot.identity(kind, value);
    const row = await this.db
      .selectFrom('identities')
      .select('profile_id')
      .where('kind', '=', kind)
      .where('value', '=', value)
      .executeTakeFirst();
    return row?.profile_id;
  }

  /** Runs several queries against one snapshot, so a commit landing between them cannot skew a page. */
  private snapshot<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    return this.snapshots ? this.db.transaction().execute(fn) : fn(this.db);
  }
}

const rank = (item: TimelineItem): number => RANK[item.kind];

const page = <T>(rows: T[], limit: number, cursorOf: (last: T) => string): Page<T> => {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return rows.length > limit && last !== undefined ? { items, next: cursorOf(last) } : { items };
};
