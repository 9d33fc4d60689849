/**
 * Which database a ledger runs on. SQLite is the default (one file per host); PostgreSQL is fleet mode (one
 * ledger shared by many hosts, configured by URL). Nearly every repository function is plain kysely and runs
 * unchanged on both; the few statements that differ (locking, JSON arrays, integrity checks, change
 * detection) ask `isPostgres(db)` here, so the difference is visible at one place per statement.
 */
import { PostgresAdapter, type Kysely } from "kysely";

/** true for a ledger (or a transaction on one) that runs on PostgreSQL. */
export function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** A ledger location that names a PostgreSQL database rather than an SQLite file. */
export function isPostgresUrl(location: string | undefined): location is string {
  return location !== undefined && /^postgres(ql)?:\/\//i.test(location);
}

/** The URL with any password replaced, for messages and logs (credentials never reach the terminal). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
  }
}
