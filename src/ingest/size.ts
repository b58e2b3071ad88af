import { Buffer } from 'node:buffer';

/**
 * UTF-8 bytes of `JSON.stringify(value)`: the size Segment's per-event limit (32 KB) is measured in,
 * so a batch item over `ingest.maxEventBytes` can be rejected on its own. `undefined` (which has no
 * JSON form) is 0 bytes. Throws as JSON.stringify does for cycles and BigInt, which JSON.parse never yields.
 */
export const jsonByteLength = (value: unknown): number => {
  const text = JSON.stringify(value) as string | undefined;
  return text === undefined ? 0 : Buffer.byteLength(text, 'utf8');
};
