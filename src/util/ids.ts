import { randomBytes } from 'node:crypto';

/**
 * Random ids for profiles and generated messageIds: 96 bits as 16 base64url characters. Shorter than a UUID,
 * which matters because profile ids are repeated in every index entry of the event log and identity graph.
 */
export const newId = (): string => randomBytes(12).toString('base64url');
