import type { JsonObject } from '../domain/index.js';
import { batchEnvelopeSchema, check, isJsonObject } from './segment-schema.js';

export type BatchEnvelopeResult =
  | { ok: true; items: unknown[]; sentAt?: number; context?: JsonObject }
  | { ok: false; field: string; reason: string };

/**
 * Checks a `/v1/batch` body and returns its items unvalidated: each item is normalised on its own, so one
 * bad item is rejected (and dead-lettered) without failing the rest. Envelope-level `sentAt` and `context`
 * apply to every item (see normalizeEvent); `writeKey` and `integrations` are accepted and ignored.
 */
export const parseBatchEnvelope = (raw: unknown): BatchEnvelopeResult => {
  if (!isJsonObject(raw)) {
    return {
      ok: false,
      field: 'batch',
      reason: Array.isArray(raw)
        ? 'the body is a bare array: wrap it as {"batch": [...]}'
        : 'required: send a JSON object {"batch": [{"type": "track", ...}]}',
    };
  }
  const parsed = check(batchEnvelopeSchema, raw);
  if (!parsed.ok) return { ok: false, field: parsed.field || 'batch', reason: parsed.reason };
  const { batch, sentAt, context } = parsed.value;
  return {
    ok: true,
    items: batch,
    ...(sentAt === undefined ? {} : { sentAt }),
    ...(context === undefined ? {} : { context }),
  };
};
