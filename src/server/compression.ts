import { createGunzip, createInflate } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { PathwiseError } from '../errors.js';

/**
 * Segment's HTTP API accepts gzip bodies and several SDKs compress by default. The body limits apply to the
 * decompressed stream (fastify counts what preParsing returns), so a small "zip bomb" is still refused with 413.
 */
export const registerDecompression = (app: FastifyInstance): void => {
  app.addHook('preParsing', async (req, _reply, payload) => {
    const encoding = req.headers['content-encoding']?.toLowerCase().trim();
    if (encoding === undefined || encoding === 'identity') return payload;
    const inflater =
      encoding === 'gzip' ? createGunzip() : encoding === 'deflate' ? createInflate() : undefined;
    if (inflater === undefined) {
      throw new PathwiseError(
        'PW_ERR_INGEST_BODY',
        `unsupported content-encoding "${encoding}" (send gzip, deflate or none)`,
      );
    }
    // fastify compares the bytes received on the wire with content-length: carry that count across.
    const inflated = payload.pipe(inflater) as typeof payload & { receivedEncodedLength?: number };
    let received = 0;
    inflated.receivedEncodedLength = 0;
    payload.on('data', (chunk: Buffer) => {
      received += chunk.length;
      inflated.receivedEncodedLength = received;
    });
    payload.on('error', (err) => inflater.destroy(err));
    return inflated;
  });
};
