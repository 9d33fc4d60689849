/**
 * Atomic ledger writes. `BEGIN IMMEDIATE` takes SQLite's write lock before the first read, so two writers
 * (in one process or several) never both read the same state and both act on it, and a writer that finds
 * the lock taken waits `busy_timeout` instead of failing. Within a process, kysely's single SQLite
 * connection is serialised by its mutex, which `connection()` holds for the whole callback. (A Postgres
 * ledger would run the same callback in a SERIALIZABLE transaction instead; this is the SQLite half.)
 */
import { sql, type Kysely } from "kysely";

/** Runs `fn` inside BEGIN IMMEDIATE … COMMIT on one connection; rolls back on any error. */
export async function immediate<T, DB>(db: Kysely<DB>, fn: (conn: Kysely<DB>) => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const out = await fn(conn);
      await sql`commit`.execute(conn);
      return out;
    } catch (e) {
      await sql`rollback`.execute(conn).catch(() => undefined);
      throw e;
    }
  });
}

/**
 * Runs `fn` inside a deferred BEGIN … COMMIT: every read sees one consistent snapshot of the ledger, and
 * since a WAL reader takes no write lock, a process that only watches (the dashboard) never delays a proxy
 * that is charging usage. `fn` must only read.
 */
export async function snapshot<T, DB>(db: Kysely<DB>, fn: (conn: Kysely<DB>) => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    await sql`begin`.execute(conn);
    try {
      return await fn(conn);
    } finally {
      await sql`commit`.execute(conn).catch(() => undefined);
    }
  });
}
