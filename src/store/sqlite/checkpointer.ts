import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Copies the WAL back into the database file from a worker thread, on its own connection. SQLite's automatic
 * checkpoint would run inside the writer's COMMIT, on the event loop, and copy (and fsync) thousands of
 * scattered pages there: measured at a fifth of ingest throughput. A PASSIVE checkpoint never blocks the
 * writer or readers, so here it runs on the second core while ingest goes on.
 */
export interface Checkpointer {
  stop(): Promise<void>;
}

// Plain JavaScript evaluated in the worker, so it runs the same under tsx, vitest and the compiled dist/.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: workerData.busyTimeoutMs });
db.pragma('synchronous = ' + workerData.synchronous);
const checkpoint = () => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (err) { parentPort.postMessage(String(err)); }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

export const startCheckpointer = (opts: {
  file: string;
  intervalMs: number;
  busyTimeoutMs: number;
  onError: (message: string) => void;
}): Checkpointer => {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      driver,
      file: opts.file,
      // As every connection (see index.ts): a checkpoint syncs the WAL before and the database after.
      synchronous: 'NORMAL',
      intervalMs: opts.intervalMs,
      busyTimeoutMs: opts.busyTimeoutMs,
    },
  });
  worker.on('message', (m: unknown) => opts.onError(String(m)));
  worker.on('error', (err) => opts.onError(err.message));
  // Never keep the process alive on its own: a store left open must not hang a CLI run.
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      // Hold the process open until the thread has finished its last checkpoint and closed its connection.
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
};
