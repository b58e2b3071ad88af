import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ProfileQueries } from '../../profiles/query.js';
import type { IngestService } from '../../ingest/service.js';
import { PathwiseError } from '../../errors.js';
import { checkAdmin, type Keys } from '../auth.js';
import { formatPath } from '../../config/path.js';

const pageQuery = z.strictObject({
  cursor: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
});

/** Parses a query string with zod; a bad one is a 400 naming the parameter. */
const parseQuery = <S extends z.ZodType>(schema: S, query: unknown): z.output<S> => {
  const r = schema.safeParse(query);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue ? formatPath(issue.path as PropertyKey[]) : '';
  const message =
    issue?.code === 'unrecognized_keys'
      ? `unknown parameter(s) ${issue.keys.join(', ')}`
      : (issue?.message ?? 'invalid');
  throw new PathwiseError('PW_ERR_QUERY_INVALID', field === '' ? message : `${field}: ${message}`, { field });
};

/** Read APIs for people and tools: profiles, timelines, segment members, dead letters. Admin key required. */
export const queryRoutes = (
  app: FastifyInstance,
  deps: { profiles: ProfileQueries; ingest: IngestService; keys: Keys },
): void => {
  app.register(async (scoped) => {
    scoped.addHook('onRequest', async (req) => checkAdmin(deps.keys, req.headers.authorization));

    scoped.get('/v1/profiles/:id', async (req) => deps.profiles.get((req.params as { id: string }).id));

    scoped.get('/v1/profiles/:id/timeline', async (req) => {
      const q = parseQuery(pageQuery, req.query);
      return deps.profiles.timeline((req.params as { id: string }).id, q);
    });

    scoped.get('/v1/profiles', async (req) => {
      const q = parseQuery(
        pageQuery.extend({ segment: z.string({ error: 'required: name a segment' }).min(1) }),
        req.query,
      );
      const page = await deps.profiles.inSegment(q.segment, q);
      return { segment: q.segment, ...page };
    });

    scoped.get('/v1/dead-letter', async (req) => {
      const q = parseQuery(pageQuery.extend({ source: z.string().min(1).optional() }), req.query);
      return deps.ingest.deadLetters(q);
    });
  });
};
