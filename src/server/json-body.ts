import type { FastifyInstance } from 'fastify';
import sjson from 'secure-json-parse';

/** Marks a body that did not parse, so the ingest route can dead-letter it instead of losing it. */
export const INVALID_JSON = Symbol('pathwise.invalidJson');
export interface InvalidJson {
  [INVALID_JSON]: string;
  error: string;
}

/**
 * Parses every ingest body as JSON whatever its content type (curl's default form type, the browser
 * beacon's text/plain). Prototype-poisoning keys are refused, as fastify's own parser does.
 * A body that is not JSON is handed on marked, not thrown, so ingest can keep it in the dead-letter table.
 */
export const registerJsonParser = (app: FastifyInstance): void => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    const text = body as string;
    if (text.length === 0) return done(null, undefined);
    try {
      done(null, sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch (err) {
      const invalid: InvalidJson = {
        [INVALID_JSON]: text,
        error: err instanceof Error ? err.message : String(err),
      };
      done(null, invalid);
    }
  });
};
