import type { FastifyInstance } from 'fastify';
import type { PrivacyService } from '../../profiles/index.js';
import { checkAdmin, type Keys } from '../auth.js';

/**
 * The rights to erasure and access (admin key): `:id` is anything `GET /v1/profiles/:id` accepts (a profile
 * id, `kind:value`, a userId, an email or phone as written). See docs/privacy.md.
 */
export const privacyRoutes = (app: FastifyInstance, deps: { privacy: PrivacyService; keys: Keys }): void => {
  app.register(async (scoped) => {
    scoped.addHook('onRequest', async (req) => checkAdmin(deps.keys, req.headers.authorization));

    scoped.delete('/v1/profiles/:id', async (req) =>
      deps.privacy.forget((req.params as { id: string }).id, 'admin-key'),
    );

    scoped.get('/v1/profiles/:id/export', async (req) =>
      deps.privacy.export((req.params as { id: string }).id),
    );
  });
};
