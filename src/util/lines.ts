import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';

/** A failure reading the stream itself, after `line` lines were read. */
export class LineReadError extends Error {
  constructor(
    readonly line: number,
    override readonly cause: Error,
  ) {
    super(cause.message);
    this.name = 'LineReadError';
  }
}

/**
 * The lines of `input` with their 1-based numbers, one at a time: readline's iterator pauses the stream while
 * the consumer is busy, so at most a chunk of lines is buffered. A read error ends the lines and is thrown as
 * a LineReadError (readline does not always hand input errors to its iterator, so they are recorded here).
 * The stream is destroyed when the loop ends, however it ends.
 */
export async function* numberedLines(input: Readable): AsyncGenerator<[text: string, line: number]> {
  // crlfDelay: a \r\n split across two chunks is still one line break, so line numbers stay right.
  const rl = createInterface({ input, crlfDelay: Infinity });
  let failure: Error | undefined;
  input.once('error', (err: Error) => {
    failure = err;
    rl.close();
  });
  let line = 0;
  try {
    for await (const text of rl) {
      line++;
      yield [text, line];
    }
  } finally {
    rl.close();
    input.destroy();
  }
  if (failure !== undefined) throw new LineReadError(line, failure);
}
