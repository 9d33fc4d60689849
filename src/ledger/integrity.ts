/**
 * Whether a ledger file is sound. A damaged ledger must never be used as if it were fine (a corrupt index
 * made every charge fail while admission kept reading stale sums), and a ledger that vanished into an
 * empty file must never silently become a fresh one (all history, and every budget's count, gone). So an
 * open runs SQLite's quick_check, and an existing file with no content is an error unless another process
 * is visibly creating it at that moment.
 */
import type { Database as Sqlite } from "bun:sqlite";
import { existsSync, statSync } from "node:fs";
import { sql, type Kysely } from "kysely";
import { LedgerError } from "../errors.ts";
import { isPostgres } from "./dialect.ts";

const size = (p: string): number => {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
};

/**
 * Throws when `path` exists but holds nothing. A brand-new ledger is empty only for the moment between
 * another process creating it and switching it to WAL, so an empty file is watched for a short while
 * before it is called truncated.
 */
export function refuseEmptyLedger(path: string, waitMs = 1000): void {
  if (!existsSync(path)) return;
  const deadline = Date.now() + waitMs;
  for (let delay = 2; size(path) === 0; delay = Math.min(delay * 2, 50)) {
    if (size(`${path}-wal`) > 0) return; // another process is writing it right now
    if (Date.now() >= deadline) {
      throw new LedgerError(`the ledger at ${path} is an empty file: its history is gone, and bottle will not start over in its place`, {
        file: path,
        fix: `restore it from a backup; or, to really start a new ledger without the old usage, delete it (rm ${path})`,
      });
    }
    Bun.sleepSync(delay);
  }
}

/** quick_check's findings (empty when the file is sound). */
export function quickCheck(raw: Sqlite): string[] {
  const rows = raw.query<Record<string, string>, []>("pragma quick_check").all();
  const out = rows.map((r) => String(Object.values(r)[0]));
  return out.length === 1 && out[0] === "ok" ? [] : out;
}

/**
 * The same check through a kysely connection (`bottle ledger check`). A fleet ledger's pages are the
 * database server's to check (its own checksums and tools); there the check is that the server answers.
 */
export async function integrityProblems(db: Kysely<any>): Promise<string[]> {
  if (isPostgres(db)) {
    await sql`select 1`.execute(db);
    return [];
  }
  const r = await sql<Record<string, string>>`pragma quick_check`.execute(db);
  const out = r.rows.map((row) => String(Object.values(row)[0]));
  return out.length === 1 && out[0] === "ok" ? [] : out;
}
