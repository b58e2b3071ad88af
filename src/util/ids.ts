import { randomFillSync } from 'node:crypto';

const ID_BYTES = 12;
const POOL_IDS = 256;
const pool = Buffer.alloc(ID_BYTES * POOL_IDS);
let next = POOL_IDS;

/**
 * Random ids for profiles and generated messageIds: 96 bits as 16 base64url characters. Shorter than a UUID,
 * which matters because profile ids are repeated in every index entry of the event log and identity graph.
 * Random bytes are drawn 256 ids at a time: one system call per id cost a few percent of ingest.
 */
export const newId = (): string => {
  if (next === POOL_IDS) {
    randomFillSync(pool);
    next = 0;
  }
  const start = next++ * ID_BYTES;
  return pool.toString('base64url', start, start + ID_BYTES);
};
