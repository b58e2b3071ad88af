import type { FastifyInstance } from 'fastify';
import { PathwiseError } from '../../errors.js';
import { formatIssue, type ConfigIssue } from '../../config/index.js';
import { checkAdmin, type Keys } from '../auth.js';
import { z } from 'zod';
import { formatPath } from '../../config/path.js';
import type { Oversight } from '../../orchestrate/index.js';

export type ReloadResult = { ok: true; restartNeeded: string[] } | { ok: false; issues: ConfigIssue[] };

const pageQuery = z.strictObject({
  cursor: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
});
const killSwitchBody = z.strictObject({ on: z.boolean({ error: 'required: true or false' }) });

const parse = <S extends z.ZodType>(schema: S, raw: unknown): z.output<S> => {
  const r = schema.safeParse(raw ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue === undefined ? '' : formatPath(issue.path as PropertyKey[]);
  const message = issue?.message ?? 'invalid';
  throw new PathwiseError('PW_ERR_QUERY_INVALID', field === '' ? message : `${field}: ${message}`, { field });
};

/** Admin operations (admin key): config reload, pausing actions, the kill switch, the audit log. */
export const adminRoutes = (
  app: FastifyInstance,
  deps: { keys: Keys; oversight: Oversight; reloadConfig?: () => Promise<ReloadResult> },
): void => {
  const actor = 'admin-key';
  app.post('/v1/admin/actions/:id/pause', async (req) => {
    checkAdmin(deps.keys, req.headers.authorization);
    return deps.oversight.pause((req.params as { id: string }).id, actor);
  });
  app.post('/v1/admin/actions/:id/resume', async (req) => {
    checkAdmin(deps.keys, req.headers.authorization);
    return deps.oversight.resume((req.params as { id: string }).id, actor);
  });
  app.post('/v1/admin/kill-switch', async (req) => {
    checkAdmin(deps.keys, req.headers.authorization);
    return deps.oversight.killSwitch(parse(killSwitchBody, req.body).on, actor);
  });
  app.get('/v1/admin/audit', async (req) => {
    checkAdmin(deps.keys, req.headers.authorization);
    const page = await deps.oversight.audit(parse(pageQuery, req.query));
    return { ...page, items: page.items.map((e) => ({ ...e, at: new Date(e.at).toISOString() })) };
  });

  app.post('/v1/admin/config/reload', async (req, reply) => {
    checkAdmin(deps.keys, req.headers.authorization);
    const r = (await deps.reloadConfig?.()) ?? {
      ok: false as const,
      issues: [{ path: '', message: 'this server was not started from a config file' }],
    };
    if (r.ok) {
      await deps.oversight.record(actor, 'config.reload', '*', { restartNeeded: r.restartNeeded });
      return { success: true, restartNeeded: r.restartNeeded };
    }
    const e = new PathwiseError(
      'PW_ERR_CONFIG_INVALID',
      `${r.issues.length} problem(s); the running config stays: ${r.issues.map(formatIssue).join('; ')}`,
    );
    return reply.code(400).send({ success: false, ...e.toJSON(), issues: r.issues });
  });
};
