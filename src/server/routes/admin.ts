import type { FastifyInstance } from 'fastify';
import { PathwiseError } from '../../errors.js';
import { formatIssue, type ConfigIssue } from '../../config/index.js';
import { checkAdmin, type Keys } from '../auth.js';

export type ReloadResult = { ok: true; restartNeeded: string[] } | { ok: false; issues: ConfigIssue[] };

/** Admin operations (admin key): for now, re-reading the config file without a restart. */
export const adminRoutes = (
  app: FastifyInstance,
  deps: { keys: Keys; reloadConfig?: () => ReloadResult },
): void => {
  app.post('/v1/admin/config/reload', async (req, reply) => {
    checkAdmin(deps.keys, req.headers.authorization);
    const r = deps.reloadConfig?.() ?? {
      ok: false as const,
      issues: [{ path: '', message: 'this server was not started from a config file' }],
    };
    if (r.ok) return { success: true, restartNeeded: r.restartNeeded };
    const e = new PathwiseError(
      'PW_ERR_CONFIG_INVALID',
      `${r.issues.length} problem(s); the running config stays: ${r.issues.map(formatIssue).join('; ')}`,
    );
    return reply.code(400).send({ success: false, ...e.toJSON(), issues: r.issues });
  });
};
