import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * Baseline for the import figure: only read a JSONL file line by line and JSON.parse each line, in its
 * own process like `pathwise import`. Prints {"lines":N,"keys":K} (K keeps the parse from being idle work).
 * Usage: node --import tsx bench/parse-baseline.ts <file.jsonl>
 */
const file = process.argv[2];
if (file === undefined) throw new Error('usage: parse-baseline.ts <file.jsonl>');
const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
let n = 0;
let keys = 0;
for await (const line of lines) {
  if (line === '') continue;
  const value = JSON.parse(line) as Record<string, unknown>;
  keys += Object.keys(value).length;
  n++;
}
process.stdout.write(`${JSON.stringify({ lines: n, keys })}\n`);
