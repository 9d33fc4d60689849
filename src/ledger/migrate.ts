/**
 * Bringing a SQLite ledger to the latest schema, safely with other processes opening it at the same moment.
 * kysely's Migrator runs SQLite migrations outside any transaction and its lock is a no-op there, so the
 * whole run happens inside our own `BEGIN IMMEDIATE`: a second process waits for the first, then finds
 * nothing pending; a crash mid-migration rolls back to the previous version. A ledger already at the
 * latest version takes no write lock at all (a reader-only process never blocks writers).
 */
import type { Database as Sqlite } from "bun:sqlite";
import { Kysely, SqliteDialect, type SqliteDatabase } from "kysely";
import { Migrator } from "kysely/migration";
import { LedgerError } from "../errors.ts";
import { MIGRATIONS, staticMigrations } from "./migrations/index.ts";

const TABLE = "kysely_migration";

/** Names of the migrations already applied to this file (empty for a new file). */
export function appliedMigrations(raw: Sqlite): string[] {
  const has = raw.query<{ n: number }, [string]>("select count(*) as n from sqlite_master where type = 'table' and name = ?").get(TABLE);
  if (!has?.n) return [];
  return raw.query<{ name: string }, []>(`select name from ${TABLE} order by name`).all().map((r) => r.name);
}

export async function migrateSqlite(raw: Sqlite, path: string, target?: string): Promise<void> {
  const known = Object.keys(MIGRATIONS).sort();
  if (target !== undefined && !known.includes(target)) throw new LedgerError(`unknown ledger migration ${target}`, { file: path, fix: `use one of ${known.join(", ")}` });
  const wanted = target === undefined ? known : known.filter((n) => n <= target);
  const check = (): string[] => {
    const applied = appliedMigrations(raw);
    const unknown = applied.filter((n) => !known.includes(n));
    if (unknown.length > 0) {
      throw new LedgerError(`the ledger at ${path} was written by a newer bottle (it has migration ${unknown[0]}, which this bottle does not know)`, {
        file: path,
        fix: "upgrade bottle, or point `ledger:` in settings.yml at another file",
      });
    }
    return wanted.filter((n) => !applied.includes(n));
  };
  if (check().length === 0) return;
  // A side kysely over the same handle: the caller's driver is still initialising. Never destroyed (that
  // would close the shared handle).
  const side = new Kysely<unknown>({ dialect: new SqliteDialect({ database: raw as unknown as SqliteDatabase }) });
  raw.exec("begin immediate");
  try {
    if (check().length > 0) {
      const m = new Migrator({ db: side, provider: staticMigrations });
      const r = target === undefined ? await m.migrateToLatest() : await m.migrateTo(target);
      if (r.error) throw r.error;
    }
    raw.exec("commit");
  } catch (e) {
    try {
      raw.exec("rollback");
    } catch {
      // already rolled back by SQLite
    }
    if (e instanceof LedgerError) throw e;
    throw new LedgerError(`could not migrate the ledger at ${path}: ${e instanceof Error ? e.message : String(e)}`, {
      file: path,
      fix: "check the file is a bottle ledger and its directory is writable; a failed migration leaves it unchanged",
    }, { cause: e });
  }
}
