import type BetterSqlite3 from 'better-sqlite3';

/** Distinct SQL texts kept prepared; queries with variable-length IN lists produce many, so the cache is bounded. */
const MAX_STATEMENTS = 500;

/**
 * The read connection as kysely sees it, with `prepare` cached by SQL text. Kysely prepares every query it
 * runs; on the decision hot path (a few small reads per request) preparing cost more than running. Reuse is
 * safe because better-sqlite3 runs a statement to completion synchronously (kysely's streaming `iterate` is
 * not used on this connection).
 */
export const withStatementCache = (db: BetterSqlite3.Database): BetterSqlite3.Database => {
  const cache = new Map<string, BetterSqlite3.Statement>();
  const prepare = (sql: string): BetterSqlite3.Statement => {
    let stmt = cache.get(sql);
    if (stmt === undefined) {
      stmt = db.prepare(sql);
      if (cache.size >= MAX_STATEMENTS) cache.delete(cache.keys().next().value as string);
      cache.set(sql, stmt);
    }
    return stmt;
  };
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'prepare') return prepare;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
};
