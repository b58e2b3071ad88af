import Database from 'better-sqlite3';
import Fastify from 'fastify';

/**
 * Second baseline for figure 1: a durable append. fastify 5 with the same body limit as the bare route
 * (bench/bare-server.ts); `POST /v1/batch` parses the JSON body (fastify's own parser) and inserts one row
 * per event into a better-sqlite3 table (WAL, `synchronous = FULL`, UNIQUE (source, messageId)), all
 * events of a request in one transaction, and answers 200 only after the COMMIT returned. No profiles, no
 * validation, no group commit across requests; a repeated messageId is skipped (the index is checked on
 * every insert, as a retry-safe ingest must). What durability alone costs on this machine.
 * Usage: node --import tsx bench/append-server.ts <port> <db file>
 */
const port = Number(process.argv[2] ?? 3002);
const file = process.argv[3];
if (file === undefined) throw new Error('usage: append-server.ts <port> <db file>');

/** The bench's one source (bench/workspace.ts); the write key is not checked. */
const SOURCE = 'web';

const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec(`
  CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    message_id TEXT NOT NULL,
    type TEXT,
    user_id TEXT,
    anonymous_id TEXT,
    timestamp TEXT,
    body TEXT NOT NULL
  );
  CREATE UNIQUE INDEX IF NOT EXISTS events_source_message ON events (source, message_id);
`);

type Call = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

const insert = db.prepare(
  `INSERT INTO events (source, message_id, type, user_id, anonymous_id, timestamp, body)
   VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, message_id) DO NOTHING`,
);
const appendAll = db.transaction((calls: Call[]) => {
  for (const c of calls) {
    insert.run(
      SOURCE,
      str(c.messageId),
      str(c.type),
      str(c.userId),
      str(c.anonymousId),
      str(c.timestamp),
      JSON.stringify(c),
    );
  }
});

const app = Fastify({ logger: false, bodyLimit: 500 * 1024 });

app.get('/healthz', async () => ({ status: 'ok' }));
app.post('/v1/batch', async (req) => {
  const batch = (req.body as { batch?: unknown } | null)?.batch;
  // better-sqlite3 is synchronous: the transaction has committed (fsync included) when this returns.
  appendAll(Array.isArray(batch) ? (batch as Call[]) : []);
  return { success: true };
});

const stop = () => {
  void app.close().then(() => {
    db.close();
    process.exit(0);
  });
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

await app.listen({ port, host: '127.0.0.1' });
