import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EventType } from '../../domain/index.js';
import type { IngestService, Outcome } from '../../ingest/service.js';
import { sourceForKey, writeKeyFromHeader, type Keys } from '../auth.js';
import { INVALID_JSON, type InvalidJson } from '../json-body.js';

const SINGLE: readonly EventType[] = ['track', 'identify', 'page', 'screen', 'group', 'alias'];

const sourceOf = (req: FastifyRequest, keys: Keys): string => {
  const body = req.body as Record<string, unknown> | undefined;
  const fromBody =
    body && typeof body === 'object' && typeof body.writeKey === 'string' ? body.writeKey : undefined;
  return sourceForKey(keys, writeKeyFromHeader(req.headers.authorization) ?? fromBody);
};

const isInvalidJson = (b: unknown): b is InvalidJson =>
  b !== null && typeof b === 'object' && INVALID_JSON in b;

/** The Segment HTTP tracking API: https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/ */
export const ingestRoutes = (
  app: FastifyInstance,
  deps: { ingest: IngestService; keys: Keys; maxEventBytes: number; maxBatchBytes: number },
): void => {
  for (const type of SINGLE) {
    app.post(`/v1/${type}`, { bodyLimit: deps.maxEventBytes }, async (req, reply) => {
      const source = sourceOf(req, deps.keys);
      const outcome = isInvalidJson(req.body)
        ? await deps.ingest.rejectBody(source, req.body[INVALID_JSON], req.body.error)
        : await deps.ingest.ingestOne(source, type, req.body);
      if (outcome.status === 'rejected') {
        return reply
          .code(outcome.code === 'PW_ERR_INGEST_TOO_LARGE' ? 413 : 400)
          .send({ success: false, ...rejection(outcome) });
      }
      return { success: true, messageId: outcome.messageId, duplicate: outcome.status === 'duplicate' };
    });
  }

  app.post('/v1/batch', { bodyLimit: deps.maxBatchBytes }, async (req, reply) => {
    const source = sourceOf(req, deps.keys);
    const outcomes = isInvalidJson(req.body)
      ? [await deps.ingest.rejectBody(source, req.body[INVALID_JSON], req.body.error)]
      : await deps.ingest.ingestBatch(source, req.body);
    let accepted = 0;
    let duplicates = 0;
    const errors: Array<ReturnType<typeof rejection> & { index: number }> = [];
    outcomes.forEach((o, index) => {
      // An erased person's event is answered like an accepted one: a write key (public in browsers) must not
      // tell who was erased. The drop is counted in pathwise_ingest_events_total{outcome="erased"}.
      if (o.status === 'accepted' || o.status === 'erased') accepted++;
      else if (o.status === 'duplicate') duplicates++;
      else errors.push({ index, ...rejection(o) });
    });
    // Valid events are kept even when others are not; the request fails only if nothing in it was usable.
    const status = accepted + duplicates === 0 && errors.length > 0 ? 400 : 200;
    return reply.code(status).send({
      success: status === 200,
      accepted,
      duplicates,
      rejected: errors.length,
      ...(errors.length > 0 ? { errors } : {}),
    });
  });
};

const rejection = (o: Extract<Outcome, { status: 'rejected' }>) => ({
  code: o.code,
  ...(o.field === '' ? {} : { field: o.field }),
  message: o.message,
  ...(o.messageId === undefined ? {} : { messageId: o.messageId }),
});
