import type { Channel } from './decision.js';
import type { JsonObject } from './event.js';

export type DeliveryStatus = 'pending' | 'sent' | 'failed' | 'cancelled';

/**
 * One message in the outbox: written in the same transaction as the decision that chose it, delivered by
 * the dispatcher at `sendAt` (quiet hours may defer it), retried with backoff, cancelled when the customer
 * converts or a human pauses the action. One delivery per decision: its id is the decision id.
 */
export interface Delivery {
  id: string;
  decisionId: string;
  profileId: string;
  actionId: string;
  channel: Channel;
  /** Sent with every attempt so a channel that honours it delivers at most once. */
  idempotencyKey: string;
  sendAt: number;
  status: DeliveryStatus;
  attempts: number;
  /** When the next attempt may run (sendAt at first, then backoff). */
  nextAttemptAt: number;
  createdAt: number;
  updatedAt: number;
  sentAt?: number;
  /** The provider's message id, when it returns one. */
  providerId?: string;
  /** Why the last attempt failed, or why it was cancelled. */
  reason?: string;
}

export type TimerKind =
  /** Decide for a customer on a signal (written with the event that triggered it, so no trigger is lost). */
  | 'decide'
  /** The response window of a delivered action ended: re-decide without it if nothing came back. */
  | 'response-window';

/** A durable timer: it fires after a restart, and one that came due while the process was down fires on start. */
export interface Timer {
  id: string;
  kind: TimerKind;
  profileId: string;
  dueAt: number;
  payload: JsonObject;
}

/** One human change at run time (pause, resume, kill switch, config reload), kept for audit. */
export interface AuditEntry {
  id: string;
  at: number;
  /** Who: the key's name, `config-file`, `cli`. */
  actor: string;
  /** What: `action.pause`, `action.resume`, `kill-switch.on`, `kill-switch.off`, `config.reload`. */
  change: string;
  /** The action id, or `*` for the whole workspace. */
  target: string;
  detail: JsonObject;
}
