/**
 * Atomic ledger writes. `BEGIN IMMEDIATE` takes SQLite's write lock before the first read, so two writers
 * (in one process or several) never both read the same state and both act on it, and a writer that finds
 * the lock taken waits up to the connection's `busy_timeout` instead of failing. That wait is asynchronous:
 * SQLite's own busy handler sleeps inside the call and would freeze the event loop — every stream the
 * proxy is relaying — while another process holds the lock, so BEGIN IMMEDIATE is tried with no busy
 * timeout and retried from a timer (1 ms doubling to 25 ms) until the same deadline. Within a process, kysely's single SQLite
 * connection is serialised by its mutex, which `connection()` holds for the whole callback. (A Postgres
 * ledger would run the same callback in a SERIALIZABLE transaction instead; this is the SQLite half.)
 */
import { sql, type Kysely } from "kysely";
import { isPostgres } from "./dialect.ts";

/**
 * The fleet ledger's write lock: every transaction that would take SQLite's write lock takes this
 * transaction-scoped advisory lock first, so writers on every host are serialised exactly as the processes
 * of one host are on SQLite, and the overshoot bounds in docs/budgets.md hold across hosts unchanged.
 * (Waiting for it is bounded by the connection's lock_timeout; a timeout is a retryable refusal.)
 */
export const PG_LEDGER_LOCK = 0x626f74746c65; // "bottle"

/** SQLite refused for a lock another connection holds (the cases worth retrying). */
export const isBusy = (e: unknown): boolean => /SQLITE_(BUSY|LOCKED)/.test(String((e as { code?: unknown }).code ?? ""));

/** Connections whose busy_timeout is 0 for good: how long they wait for the lock, and what must run first. */
const timerWaits = new WeakMap<object, { waitMs: number; before: () => Promise<unknown> }>();

/** Marks `db` (a connection with busy_timeout 0) as waiting up to `waitMs` for the write lock, on timers. */
export function waitsOnTimers(db: object, waitMs: number, before: () => Promise<unknown>): void {
  let ready: Promise<unknown> | undefined;
  timerWaits.set(db, { waitMs, before: () => (ready ??= before().catch((e: unknown) => ((ready = undefined), Promise.reject(e)))) });
}

/** BEGIN IMMEDIATE on a connection that never waits inside SQLite: one statement when the lock is free. */
async function beginOnTimers<DB>(conn: Kysely<DB>, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 25)) {
    try {
      await sql`begin immediate`.execute(conn);
      return;
    } catch (e) {
      if (!isBusy(e) || Date.now() >= deadline) throw e;
    }
    await Bun.sleep(delay);
  }
}

/** BEGIN IMMEDIATE, waiting for another process's write lock on timers instead of on the event loop. */
async function beginImmediate<DB>(conn: Kysely<DB>): Promise<void> {
  const current = await sql<{ timeout: number }>`pragma busy_timeout`.execute(conn);
  const waitMs = Number(current.rows[0]?.timeout ?? 0);
  if (waitMs <= 0) {
    await sql`begin immediate`.execute(conn);
    return;
  }
  await sql.raw("pragma busy_timeout = 0").execute(conn);
  try {
    await beginOnTimers(conn, waitMs);
  } finally {
    await sql.raw(`pragma busy_timeout = ${Math.floor(waitMs)}`).execute(conn);
  }
}

/** Runs `fn` inside BEGIN IMMEDIATE … COMMIT on one connection; rolls back on any error. */
export async function immediate<T, DB>(db: Kysely<DB>, fn: (conn: Kysely<DB>) => Promise<T>): Promise<T> {
  if (isPostgres(db)) {
    return db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${PG_LEDGER_LOCK})`.execute(trx);
      return fn(trx);
    });
  }
  const timers = timerWaits.get(db);
  if (timers) await timers.before();
  return db.connection().execute(async (conn) => {
    if (timers) await beginOnTimers(conn, timers.waitMs);
    else await beginImmediate(conn);
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
  if (isPostgres(db)) return db.transaction().setIsolationLevel("repeatable read").execute(fn);
  return db.connection().execute(async (conn) => {
    await sql`begin`.execute(conn);
    try {
      return await fn(conn);
    } finally {
      await sql`commit`.execute(conn).catch(() => undefined);
    }
  });
}
