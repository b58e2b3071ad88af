import type BetterSqlite3 from 'better-sqlite3';
import type { AuditEntry, Delivery, Json, Timer } from '../../domain/index.js';
import { PathwiseError } from '../../errors.js';
import type { DeliveryPatch } from '../store.js';
import { auditParams, DELIVERY_COLUMNS, deliveryParams, timerParams, toDelivery } from './outbox-rows.js';
import type { DeliveryRow } from './schema.js';

type Param = string | number | null;
type Db = BetterSqlite3.Database;

// `status = 'pending'` is spelled literally, never bound: SQLite uses a partial index only for a query whose
// WHERE clause contains the index's own condition as written (see migration 0003_outbox).
const CANCEL = `UPDATE deliveries SET status = 'cancelled', reason = ?, updated_at = ?
  WHERE status = 'pending' AND`;

/** The outbox's statements, prepared once with the writer's others (see writer.ts). */
export const prepareOutboxStatements = (db: Db) => ({
  insertDelivery: db.prepare<Param[]>(
    `INSERT INTO deliveries (${DELIVERY_COLUMNS}) VALUES (${DELIVERY_COLUMNS.split(', ')
      .map(() => '?')
      .join(', ')})`,
  ),
  getDelivery: db.prepare<[string], DeliveryRow>('SELECT * FROM deliveries WHERE id = ?'),
  // A null parameter keeps the column as it is: no patchable field is ever set back to null.
  updateDelivery: db.prepare<Param[]>(
    `UPDATE deliveries SET status = coalesce(?, status), attempts = coalesce(?, attempts),
       next_attempt_at = coalesce(?, next_attempt_at), sent_at = coalesce(?, sent_at),
       provider_id = coalesce(?, provider_id), reason = coalesce(?, reason), updated_at = coalesce(?, updated_at)
     WHERE id = ?`,
  ),
  cancelOfProfile: db.prepare<[string, number, string], DeliveryRow>(`${CANCEL} profile_id = ? RETURNING *`),
  cancelOfAction: db.prepare<[string, number, string], DeliveryRow>(`${CANCEL} action_id = ? RETURNING *`),
  moveDeliveries: db.prepare<[string, string]>('UPDATE deliveries SET profile_id = ? WHERE profile_id = ?'),
  insertTimer: db.prepare<Param[]>(
    'INSERT INTO timers (id, kind, profile_id, due_at, payload) VALUES (?, ?, ?, ?, ?)',
  ),
  deleteTimer: db.prepare<[string]>('DELETE FROM timers WHERE id = ?'),
  moveTimers: db.prepare<[string, string]>('UPDATE timers SET profile_id = ? WHERE profile_id = ?'),
  insertAudit: db.prepare<Param[]>(
    'INSERT INTO audit_log (id, at, actor, change, target, detail) VALUES (?, ?, ?, ?, ?, ?)',
  ),
  setControl: db.prepare<[string, string]>(
    'INSERT INTO controls (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  ),
  deleteControl: db.prepare<[string]>('DELETE FROM controls WHERE key = ?'),
});

export type OutboxStatements = ReturnType<typeof prepareOutboxStatements>;

/** Runs an insert, turning a unique-key violation into the port's conflict error. */
const insertOnce = (what: string, insert: () => unknown): void => {
  try {
    insert();
  } catch (err) {
    if ((err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
      throw new PathwiseError('PW_ERR_STORE_CONFLICT', `${what} is already stored`, { cause: err });
    }
    throw err;
  }
};

/** The StoreWriter's outbox methods, as functions of the transaction's statements (see SqliteWriter). */
export const addDelivery = (s: OutboxStatements, d: Delivery): void =>
  insertOnce(`delivery ${d.id}`, () => s.insertDelivery.run(...deliveryParams(d)));

export const getDelivery = (s: OutboxStatements, id: string): Delivery | undefined => {
  const row = s.getDelivery.get(id);
  return row === undefined ? undefined : toDelivery(row);
};

export const updateDelivery = (s: OutboxStatements, id: string, patch: DeliveryPatch): void => {
  const changes = s.updateDelivery.run(
    patch.status ?? null,
    patch.attempts ?? null,
    patch.nextAttemptAt ?? null,
    patch.sentAt ?? null,
    patch.providerId ?? null,
    patch.reason ?? null,
    patch.updatedAt ?? null,
    id,
  ).changes;
  if (changes === 0) {
    throw new PathwiseError(
      'PW_ERR_STORE_CONFLICT',
      `delivery ${id} is not stored, so it cannot be updated: add it with addDelivery first`,
    );
  }
};

export const cancelDeliveries = (
  s: OutboxStatements,
  filter: { profileId: string } | { actionId: string },
  reason: string,
  at: number,
): Delivery[] => {
  const byProfile = 'profileId' in filter;
  // The union's members may both be present at run time (an object with extra keys): refuse to guess.
  if (byProfile === 'actionId' in filter) {
    throw new Error('cancelDeliveries: pass exactly one of { profileId } or { actionId }');
  }
  const rows = byProfile
    ? s.cancelOfProfile.all(reason, at, filter.profileId)
    : s.cancelOfAction.all(reason, at, filter.actionId);
  // RETURNING gives no order: list them in the order they were added.
  return rows.sort((a, b) => a.seq - b.seq).map(toDelivery);
};

export const addTimer = (s: OutboxStatements, t: Timer): void =>
  insertOnce(`timer ${t.id}`, () => s.insertTimer.run(...timerParams(t)));

export const deleteTimer = (s: OutboxStatements, id: string): boolean => s.deleteTimer.run(id).changes > 0;

export const addAudit = (s: OutboxStatements, entry: AuditEntry): void =>
  insertOnce(`audit entry ${entry.id}`, () => s.insertAudit.run(...auditParams(entry)));

export const setControl = (s: OutboxStatements, key: string, value: Json | null): void => {
  if (value === null) s.deleteControl.run(key);
  else s.setControl.run(key, JSON.stringify(value));
};

/** Part of foldProfile: the deliveries and timers of `fromId`, whatever their state, move to `intoId`. */
export const moveOutbox = (s: OutboxStatements, fromId: string, intoId: string): void => {
  s.moveDeliveries.run(intoId, fromId);
  s.moveTimers.run(intoId, fromId);
};
