import Sqlite from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { withStatementCache } from './statement-cache.js';
import { PathwiseError } from '../../errors.js';
import type { Store, StoreReader, StoreWriter } from '../store.js';
import { migrations } from './migrations.js';
import { SqliteReader } from './reader.js';
import type { Database } from './schema.js';
import { prepareStatements, SqliteWriter, type Statements } from './writer.js';
import { WriteCache } from './write-cache.js';
import { startCheckpointer, type Checkpointer } from './checkpointer.js';
import { WalSync } from './wal-sync.js';

export interface SqliteStoreOptions {
  /** Path of the database file, or `:memory:` (one connection; reads then also see uncommitted writes). */
  file: string;
  /**
   * `full` (default): a write resolves once its commit is on disk (it survives power loss); the fsync runs off
   * the event loop (see wal-sync.ts). `normal`: resolves at commit; survives a process crash, not power loss.
   */
  synchronous?: 'full' | 'normal';
  /** Tuning for tests: how often the checkpointer thread runs, and how often the writer rewinds the WAL. */
  checkpointEveryMs?: number;
  walRewindMs?: number;
  /** Where operational warnings go (default: process warnings). */
  onWarning?: (message: string) => void;
}

const defaults = {
  synchronous: 'full',
  /** Wait this long for a lock held by another process (a backup, the CLI) before failing. */
  busyTimeoutMs: 5000,
  /** Page cache per connection, in KiB (negative means KiB to SQLite): hot profiles and index pages stay in memory. */
  cacheKiB: 32 * 1024,
  /** The reader serves API lookups of single profiles and pages: it needs far less. */
  readerCacheKiB: 16 * 1024,
  /** Profiles and identities the writer keeps decoded-free in memory between transactions (see write-cache.ts). */
  writeCacheProfiles: 5_000,
  writeCacheIdentities: 25_000,
  /** How often the checkpointer thread copies the WAL into the database file (see checkpointer.ts). */
  checkpointEveryMs: 500,
  /** How often the writer completes a checkpoint so the WAL starts over (see finishCheckpoint). */
  walRewindMs: 2000,
  /** Cap what a checkpointed WAL file keeps on disk. */
  journalSizeLimit: 64 * 1024 * 1024,
} as const;

/** Every connection runs NORMAL: for `full`, the store fsyncs the WAL itself after commits (wal-sync.ts). */
const connect = (file: string): BetterSqlite3.Database => {
  const db = new Sqlite(file, { timeout: defaults.busyTimeoutMs });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma(`busy_timeout = ${defaults.busyTimeoutMs}`);
  db.pragma(`cache_size = -${defaults.cacheKiB}`);
  db.pragma(`journal_size_limit = ${defaults.journalSizeLimit}`);
  db.pragma('temp_store = MEMORY');
  return db;
};

/** Opens (creating if needed) a SQLite store. Call `migrate()` before the first read or write. */
export const openSqliteStore = async (opts: SqliteStoreOptions): Promise<Store> => {
  const synchronous = opts.synchronous ?? defaults.synchronous;
  const writer = connect(opts.file);
  if (opts.file === ':memory:') return new SqliteStore(writer, writer, undefined);
  let reader: BetterSqlite3.Database | undefined;
  try {
    reader = connect(opts.file);
    // The reader never writes; refuse it outright so a stray statement cannot take the write lock.
    reader.pragma('query_only = ON');
    reader.pragma(`cache_size = -${defaults.readerCacheKiB}`);
    // Checkpoints run on a worker thread (checkpointer.ts), never inside the writer's COMMIT.
    writer.pragma('wal_autocheckpoint = 0');
    const warn = opts.onWarning ?? ((m: string) => process.emitWarning(m, 'PathwiseStoreWarning'));
    const checkpointer = startCheckpointer({
      file: opts.file,
      intervalMs: opts.checkpointEveryMs ?? defaults.checkpointEveryMs,
      busyTimeoutMs: defaults.busyTimeoutMs,
      onError: (message) => {
        // Without its checkpointer the WAL would grow without end: let the writer checkpoint again.
        writer.pragma('wal_autocheckpoint = 1000');
        warn(`checkpointer thread failed, checkpointing on the writer instead: ${message}`);
      },
    });
    const durable = synchronous === 'full' ? new WalSync(`${opts.file}-wal`) : undefined;
    return new SqliteStore(writer, reader, durable, checkpointer, opts.walRewindMs ?? defaults.walRewindMs);
  } catch (err) {
    reader?.close();
    writer.close();
    throw err;
  }
};

/**
 * A file database uses two connections: `write()` transactions run on one, `read` on the other. In WAL mode
 * the reader sees the last committed state, never rows of a transaction still awaiting its callback.
 */
class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly read: StoreReader;
  private readonly writeDb: Kysely<Database>;
  private statements: Statements | undefined;
  /** Tail of the queue of write transactions: each starts only when the previous one has settled. */
  private tail: Promise<unknown> = Promise.resolve();
  /** Settles when the last write() was reported (durable or failed). */
  private lastWrite: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly cache = new WriteCache(defaults.writeCacheProfiles, defaults.writeCacheIdentities);
  private dataVersion: number | undefined;
  private lastRewind = performance.now();

  constructor(
    private readonly writer: BetterSqlite3.Database,
    private readonly reader: BetterSqlite3.Database,
    /** Set for `synchronous: 'full'`: commits are reported once the WAL is fsynced. */
    private readonly durable: WalSync | undefined,
    private readonly checkpointer?: Checkpointer,
    private readonly walRewindMs: number = defaults.walRewindMs,
  ) {
    // Both kysely instances wrap connections this class owns and closes; they are never destroyed.
    this.writeDb = new Kysely<Database>({ dialect: new SqliteDialect({ database: writer }) });
    const readDb =
      reader === writer
        ? this.writeDb
        : new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(reader) }) });
    // The hot-path statements go on the read connection only when it is separate from the writer's.
    this.read = new SqliteReader(readDb, reader !== writer, reader === writer ? undefined : reader, reader);
  }

  migrate(): Promise<void> {
    // Queued like a write: DDL must never run inside (or beside) a write transaction.
    return this.enqueue(async () => {
      const migrator = new Migrator({
        db: this.writeDb,
        provider: { getMigrations: async () => migrations },
      });
      const { error, results } = await migrator.migrateToLatest();
      if (error !== undefined) {
        const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
        const detail = `schema migration ${failed} failed: ${String(error)}`;
        throw new PathwiseError('PW_ERR_STORE_UNAVAILABLE', detail, { cause: error });
      }
      this.statements = undefined;
    });
  }

  write<T>(fn: (w: StoreWriter) => Promise<T>): Promise<T> {
    const committed = this.enqueue(() => this.transact(fn));
    const durable = this.durable;
    if (durable === undefined) return committed;
    // The next transaction may run while this one's fsync does; this one is reported after it.
    const done = committed.then(async (result) => {
      try {
        await durable.sync();
      } catch (err) {
        const detail = `a commit could not be made durable (fsync of the WAL failed): ${String(err)}`;
        throw new PathwiseError('PW_ERR_STORE_UNAVAILABLE', detail, { cause: err });
      }
      return result;
    });
    // Syncs complete in order, so close() waiting for the last write's covers every earlier one.
    this.lastWrite = done.then(
      () => undefined,
      () => undefined,
    );
    return done;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Let queued transactions finish: a caller awaiting one was promised a commit or an error, not silence.
    await this.tail;
    await this.lastWrite;
    await this.durable?.close();
    await this.checkpointer?.stop();
    // The reader first: the last connection to close checkpoints the WAL into the database file.
    if (this.reader !== this.writer) this.reader.close();
    this.writer.close();
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    if (this.closed)
      return Promise.reject(new PathwiseError('PW_ERR_STORE_UNAVAILABLE', 'the store is closed'));
    const run = this.tail.then(task);
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async transact<T>(fn: (w: StoreWriter) => Promise<T>): Promise<T> {
    const s = this.prepared();
    this.finishCheckpoint();
    s.begin.run();
    const version = s.dataVersion.get() as number;
    // Another connection committed since our last transaction: what we cached may be stale.
    if (version !== this.dataVersion) this.cache.clear();
    this.dataVersion = version;
    const w = new SqliteWriter(s, this.cache);
    try {
      const result = await fn(w);
      w.end();
      s.commit.run();
      return result;
    } catch (err) {
      w.end();
      // The cache may hold rows this transaction wrote: they are gone with it.
      this.cache.clear();
      // Some errors (disk full, I/O) make SQLite roll back by itself; a second ROLLBACK would then throw.
      if (this.writer.inTransaction) s.rollback.run();
      throw err;
    }
  }

  /**
   * The checkpointer thread copies the WAL into the database while the writer goes on, but SQLite starts the
   * WAL over only after a checkpoint that caught up with the writer. So every couple of seconds the writer
   * runs one PASSIVE checkpoint itself between transactions: the thread has already copied nearly every
   * page, so this is short (measured ~15 ms), and the next commit rewinds the WAL instead of growing it.
   */
  private finishCheckpoint(): void {
    if (this.checkpointer === undefined) return;
    const now = performance.now();
    if (now - this.lastRewind < this.walRewindMs) return;
    this.lastRewind = now;
    this.writer.pragma('wal_checkpoint(PASSIVE)');
  }

  private prepared(): Statements {
    if (this.statements === undefined) {
      try {
        this.statements = prepareStatements(this.writer);
      } catch (err) {
        const detail = 'schema missing or outdated (run store.migrate() first)';
        throw new PathwiseError('PW_ERR_STORE_UNAVAILABLE', detail, { cause: err });
      }
    }
    return this.statements;
  }
}
