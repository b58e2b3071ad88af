import type {
  AuditEntry,
  Channel,
  Delivery,
  DeliveryStatus,
  JsonObject,
  Timer,
  TimerKind,
} from '../../domain/index.js';
import type { AuditRow, DeliveryRow, TimerRow } from './schema.js';

/** Conversions between deliveries, timers, audit entries and their rows (see outbox-writer.ts, outbox-reader.ts). */

type Param = string | number | null;

export const DELIVERY_COLUMNS =
  'id, decision_id, profile_id, action_id, channel, idempotency_key, send_at, status, attempts, next_attempt_at, created_at, updated_at, sent_at, provider_id, reason';

/** Parameters of the delivery insert, in DELIVERY_COLUMNS order. */
export const deliveryParams = (d: Delivery): Param[] => [
  d.id,
  d.decisionId,
  d.profileId,
  d.actionId,
  d.channel,
  d.idempotencyKey,
  d.sendAt,
  d.status,
  d.attempts,
  d.nextAttemptAt,
  d.createdAt,
  d.updatedAt,
  d.sentAt ?? null,
  d.providerId ?? null,
  d.reason ?? null,
];

export const toDelivery = (row: DeliveryRow): Delivery => {
  const d: Delivery = {
    id: row.id,
    decisionId: row.decision_id,
    profileId: row.profile_id,
    actionId: row.action_id,
    channel: row.channel as Channel,
    idempotencyKey: row.idempotency_key,
    sendAt: row.send_at,
    status: row.status as DeliveryStatus,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.sent_at !== null) d.sentAt = row.sent_at;
  if (row.provider_id !== null) d.providerId = row.provider_id;
  if (row.reason !== null) d.reason = row.reason;
  return d;
};

/** Parameters of the timer insert, in column order (see outbox-writer.ts). */
export const timerParams = (t: Timer): Param[] => [
  t.id,
  t.kind,
  t.profileId,
  t.dueAt,
  JSON.stringify(t.payload),
];

export const toTimer = (row: Omit<TimerRow, 'seq'>): Timer => ({
  id: row.id,
  kind: row.kind as TimerKind,
  profileId: row.profile_id,
  dueAt: row.due_at,
  payload: JSON.parse(row.payload) as JsonObject,
});

/** Parameters of the audit insert, in column order (see outbox-writer.ts). */
export const auditParams = (a: AuditEntry): Param[] => [
  a.id,
  a.at,
  a.actor,
  a.change,
  a.target,
  JSON.stringify(a.detail),
];

export const toAuditEntry = (row: Omit<AuditRow, 'seq'>): AuditEntry => ({
  id: row.id,
  at: row.at,
  actor: row.actor,
  change: row.change,
  target: row.target,
  detail: JSON.parse(row.detail) as JsonObject,
});
