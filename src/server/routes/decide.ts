import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DecisionService, OutcomeService } from '../../orchestrate/index.js';
import type { StoredDecision } from '../../store/index.js';
import { PathwiseError } from '../../errors.js';
import { checkAdmin, sourceForKey, writeKeyFromHeader, type Keys } from '../auth.js';
import { INVALID_JSON } from '../json-body.js';

const sourceOf = (req: FastifyRequest, keys: Keys): string => {
  const body = req.body as Record<string, unknown> | undefined;
  const fromBody =
    body && typeof body === 'object' && typeof body.writeKey === 'string' ? body.writeKey : undefined;
  return sourceForKey(keys, writeKeyFromHeader(req.headers.authorization) ?? fromBody);
};

/** A body that is not JSON is a 400 naming the problem, before anything is decided. */
const jsonBody = (req: FastifyRequest, code: 'PW_ERR_DECIDE_INVALID' | 'PW_ERR_OUTCOME_INVALID'): unknown => {
  const b = req.body as Record<PropertyKey, unknown> | undefined;
  if (b !== null && typeof b === 'object' && INVALID_JSON in b) {
    throw new PathwiseError(code, `body is not valid JSON: ${String(b.error)}`);
  }
  return req.body;
};

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The public shape of a logged decision: times as ISO strings; the hashed features are summarised, not listed. */
export const decisionView = (d: StoredDecision) => {
  const { features, ...rest } = d;
  return {
    ...rest,
    at: iso(d.at),
    sendAt: iso(d.sendAt),
    attributionEndsAt: iso(d.attributionEndsAt),
    featureCount: features.idx.length,
    outcomes: d.outcomes.map((o) => ({ ...o, at: iso(o.at) })),
    ...(d.resolution === undefined ? {} : { resolution: { ...d.resolution, at: iso(d.resolution.at) } }),
  };
};

/**
 * The decision API: websites and apps ask for a placement's content with their write key
 * (`POST /v1/decide`) and report explicit feedback; people read any decision with its explanation.
 */
export const decideRoutes = (
  app: FastifyInstance,
  deps: { decisions: DecisionService; outcomes: OutcomeService; keys: Keys },
): void => {
  app.post('/v1/decide', async (req) => {
    const source = sourceOf(req, deps.keys);
    return deps.decisions.decideForPlacement(source, jsonBody(req, 'PW_ERR_DECIDE_INVALID'));
  });

  app.post('/v1/decisions/:id/outcome', async (req) => {
    const source = sourceOf(req, deps.keys);
    const { id } = req.params as { id: string };
    return deps.outcomes.record(source, id, jsonBody(req, 'PW_ERR_OUTCOME_INVALID'));
  });

  app.get('/v1/decisions/:id', async (req) => {
    checkAdmin(deps.keys, req.headers.authorization);
    return decisionView(await deps.decisions.getDecision((req.params as { id: string }).id));
  });
};
