import { open, type FileHandle } from 'node:fs/promises';

/**
 * Durable commits without blocking the event loop. With `synchronous = FULL`, SQLite fsyncs the WAL inside
 * COMMIT, and better-sqlite3 runs COMMIT on the event loop: every request and timer waits for the disk (on
 * this machine's disk that made the p99 of `POST /v1/decide` 20× worse than without the fsync). Instead the
 * connections run with `synchronous = NORMAL` (COMMIT writes the WAL frames to the OS, no fsync), and after a
 * commit the caller awaits `sync()`: an fsync of the WAL file on libuv's thread pool, begun after the commit.
 * Only then is the write reported done, so a transaction is acknowledged exactly when FULL would acknowledge it
 * (its frames are on disk); meanwhile the event loop serves requests and the next transactions commit.
 * Commits that arrive while an fsync runs share the next one (group sync). SQLite itself still syncs the WAL
 * before each checkpoint and the database after it, as NORMAL does.
 */
export class WalSync {
  private handle: FileHandle | undefined;
  private inflight: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  private closed = false;
  private done = 0;

  constructor(private readonly walFile: string) {}

  /** Resolves once an fsync of the WAL that began after this call has completed. */
  sync(): Promise<void> {
    if (this.inflight === undefined) {
      this.inflight = this.fsync().finally(() => {
        this.inflight = undefined;
      });
      return this.inflight;
    }
    // One is running: it may have begun before the caller's commit, so wait for the one after it.
    this.next ??= this.inflight
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.sync();
      });
    return this.next;
  }

  /** fsyncs completed so far. */
  get completed(): number {
    return this.done;
  }

  /** Waits for syncs in flight, then closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    await this.next?.catch(() => undefined);
    await this.inflight?.catch(() => undefined);
    await this.handle?.close();
    this.handle = undefined;
  }

  private async fsync(): Promise<void> {
    if (this.closed) throw new Error('the WAL syncer is closed');
    // Opened on first use: the WAL file exists once the first transaction committed. fsync flushes the file's
    // pages whichever descriptor wrote them.
    this.handle ??= await open(this.walFile, 'r');
    await this.handle.sync();
    this.done++;
  }
}
