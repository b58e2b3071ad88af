import { sql, type Kysely, type SqlBool } from 'kysely';
import type { AuditEntry, Delivery, Json, Timer } from '../../domain/index.js';
import type { Page } from '../store.js';
import { checkLimit, decodeCursor, encodeCursor } from './cursor.js';
import { toAuditEntry, toDelivery, toTimer } from './outbox-rows.js';
import type { Database } from './schema.js';

/** The StoreReader's outbox queries, as functions of a kysely instance (see SqliteReader). */
type Db = Kysely<Database>;

// Literal, not a bound parameter, so SQLite can use the partial index on pending deliveries.
const pending = sql<SqlBool>`status = 'pending'`;

export const dueDeliveries = async (db: Db, now: number, limit: number): Promise<Delivery[]> => {
  const rows = await db
    .selectFrom('deliveries')
    .selectAll()
    .where(pending)
    .where('next_attempt_at', '<=', now)
    .orderBy('next_attempt_at')
    .orderBy('seq')
    .limit(checkLimit(limit))
    .execute();
  return rows.map(toDelivery);
};

export const deliveriesOf = async (db: Db, profileId: string): Promise<Delivery[]> => {
  const rows = await db
    .selectFrom('deliveries')
    .selectAll()
    .where('profile_id', '=', profileId)
    .orderBy('created_at', 'desc')
    .orderBy('seq', 'desc')
    .execute();
  return rows.map(toDelivery);
};

export const getDelivery = async (db: Db, id: string): Promise<Delivery | undefined> => {
  const row = await db.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : toDelivery(row);
};

export const dueTimers = async (db: Db, now: number, limit: number): Promise<Timer[]> => {
  const rows = await db
    .selectFrom('timers')
    .select(['id', 'kind', 'profile_id', 'due_at', 'payload'])
    .where('due_at', '<=', now)
    .orderBy('due_at')
    .orderBy('seq')
    .limit(checkLimit(limit))
    .execute();
  return rows.map(toTimer);
};

export const countTimers = async (db: Db, profileId?: string): Promise<number> => {
  let q = db.selectFrom('timers').select((eb) => eb.fn.countAll<number>().as('n'));
  if (profileId !== undefined) q = q.where('profile_id', '=', profileId);
  return (await q.executeTakeFirstOrThrow()).n;
};

/** Newest first: by time, then by insertion for entries of the same millisecond. */
export const auditLog = async (
  db: Db,
  opts: { cursor?: string; limit: number },
): Promise<Page<AuditEntry>> => {
  const limit = checkLimit(opts.limit);
  let q = db.selectFrom('audit_log').selectAll();
  if (opts.cursor !== undefined) {
    const [at, seq] = decodeCursor(opts.cursor, 'a', ['number', 'number'] as const);
    q = q.where(sql<SqlBool>`(at, seq) < (${at}, ${seq})`);
  }
  const rows = await q
    .orderBy('at', 'desc')
    .orderBy('seq', 'desc')
    .limit(limit + 1)
    .execute();
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return rows.length > limit && last !== undefined
    ? { items: items.map(toAuditEntry), next: encodeCursor('a', [last.at, last.seq]) }
    : { items: items.map(toAuditEntry) };
};

export const controls = async (db: Db): Promise<Map<string, Json>> => {
  const rows = await db.selectFrom('controls').select(['key', 'value']).orderBy('key').execute();
  return new Map(rows.map((r) => [r.key, JSON.parse(r.value) as Json]));
};
