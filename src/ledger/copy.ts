/**
 * Moving a host to a fleet: copy its SQLite ledger into the shared PostgreSQL ledger so that no history is
 * lost, once. Every table is read in SQLite row order and written in batches; each batch commits together
 * with its high-water mark in `ledger_imports(source, table_name, last_id)`, so a copy that is interrupted,
 * or run again, or run later after more usage, adds exactly the rows it has not added before and nothing
 * twice. Rows with an integer id get a new id on the fleet ledger (other hosts' rows already hold the low
 * ones); usage rows carry a uid made of their run id and old id as a second guard, which does not depend
 * on the source's identity: the same file copied again under another host name or path adds no usage. Runs and
 * reservations keep their text ids (on conflict: kept as they are, except that a run or reservation the
 * fleet ledger still has open is closed when the source has closed it since). Each batch takes the
 * ledger's admission lock and drops the running totals, which the next admission rebuilds from
 * usage_events, so no budget reads a total that misses the copied usage.
 */
import { realpathSync } from "node:fs";
import { sql, type Kysely } from "kysely";
import type { LedgerDb } from "./database.ts";
import { immediate } from "./tx.ts";

/** The tables copied, in this order (runs first: the others refer to them). */
export const COPIED_TABLES = ["runs", "usage_events", "reservations", "enforcement_actions", "commands", "budget_resets", "egress_audit"] as const;
export type CopiedTable = (typeof COPIED_TABLES)[number];

/** Tables whose rows have an integer id; the others are ordered by SQLite's rowid and keep their text id. */
const NEW_ID = new Set<CopiedTable>(["usage_events", "enforcement_actions", "commands", "budget_resets", "egress_audit"]);

export interface CopyCounts {
  /** Rows added to the fleet ledger, per table. */
  copied: Record<CopiedTable, number>;
  /** Runs and reservations already on the fleet ledger that the source has ended or released since. */
  closed: { runs: number; reservations: number };
}

export interface CopyOptions {
  /** A stable identity of the source ledger (`sourceIdentity`). */
  source: string;
  /** Written on copied runs that have no host (rows from before runs recorded one). */
  host: string;
  /** Rows per transaction. */
  batch?: number;
}

/** The source's identity in ledger_imports: the host's name and the ledger file's real path. */
export function sourceIdentity(host: string, file: string): string {
  let real = file;
  try {
    real = realpathSync(file);
  } catch {
    // a file that is gone has no other name
  }
  return `${host}:${real}`;
}

async function lastId(pg: Kysely<any>, source: string, table: string): Promise<number> {
  const r = await pg.selectFrom("ledger_imports").select("last_id").where("source", "=", source).where("table_name", "=", table).executeTakeFirst();
  return r ? Number(r.last_id) : 0;
}

async function markDone(pg: Kysely<any>, source: string, table: string, last: number): Promise<void> {
  await pg
    .insertInto("ledger_imports")
    .values({ source, table_name: table, last_id: last, imported_at: Date.now() })
    .onConflict((oc) => oc.columns(["source", "table_name"]).doUpdateSet({ last_id: last, imported_at: Date.now() }))
    .execute();
}

/** Copies one table's rows past the watermark; returns how many the fleet ledger did not have. */
async function copyTable(lite: LedgerDb, pg: LedgerDb, table: CopiedTable, o: Required<CopyOptions>): Promise<number> {
  const key = NEW_ID.has(table) ? "id" : "rowid";
  let added = 0;
  for (;;) {
    const from = await lastId(pg, o.source, table);
    const rows = (await sql<Record<string, unknown>>`select ${sql.raw(key)} as import_key, * from ${sql.table(table)} where ${sql.raw(key)} > ${from} order by ${sql.raw(key)} limit ${o.batch}`.execute(lite)).rows;
    if (rows.length === 0) return added;
    const last = Number(rows.at(-1)!.import_key);
    const values = rows.map((r) => {
      const { import_key, ...row } = r;
      if (NEW_ID.has(table)) delete row.id;
      if (table === "usage_events") row.uid = `import:${String(row.run_id)}:${String(import_key)}`;
      if (table === "runs" && (row.host === null || row.host === undefined)) row.host = o.host;
      return row;
    });
    added += await immediate(pg as Kysely<any>, async (trx) => {
      // Another copy of the same source committed this batch meanwhile: the watermark says so.
      if ((await lastId(trx, o.source, table)) !== from) return 0;
      let q = trx.insertInto(table).values(values);
      q = table === "usage_events" ? q.onConflict((oc) => oc.column("uid").doNothing()) : NEW_ID.has(table) ? q : q.onConflict((oc) => oc.column("id").doNothing());
      const r = await q.executeTakeFirst();
      await markDone(trx, o.source, table, last);
      if (table === "usage_events") await trx.deleteFrom("budget_totals").execute();
      return Number(r.numInsertedOrUpdatedRows ?? 0n);
    });
  }
}

/** Runs and reservations the fleet ledger holds open that the source has since ended or released. */
async function closeEnded(lite: LedgerDb, pg: LedgerDb): Promise<CopyCounts["closed"]> {
  const closed = { runs: 0, reservations: 0 };
  const openRuns = await pg.selectFrom("runs").select("id").where("state", "!=", "ended").execute();
  for (const { id } of openRuns) {
    const src = await lite.selectFrom("runs").select(["state", "ended_at", "exit_code", "stop_reason"]).where("id", "=", id).where("state", "=", "ended").executeTakeFirst();
    if (!src) continue;
    const r = await pg.updateTable("runs").set(src).where("id", "=", id).where("state", "!=", "ended").executeTakeFirst();
    closed.runs += Number(r.numUpdatedRows);
  }
  const openRes = await pg.selectFrom("reservations").select("id").where("released_at", "is", null).execute();
  for (const { id } of openRes) {
    const src = await lite.selectFrom("reservations").select(["released_at", "settled_tokens"]).where("id", "=", id).where("released_at", "is not", null).executeTakeFirst();
    if (!src) continue;
    const r = await pg.updateTable("reservations").set(src).where("id", "=", id).where("released_at", "is", null).executeTakeFirst();
    closed.reservations += Number(r.numUpdatedRows);
  }
  return closed;
}

/**
 * Copies everything in `lite` (an SQLite ledger) that `pg` (a fleet ledger) has not had from this source.
 * Safe to interrupt and to run again; returns what this call added.
 */
export async function copyLedger(lite: LedgerDb, pg: LedgerDb, o: CopyOptions): Promise<CopyCounts> {
  const opts: Required<CopyOptions> = { batch: 1000, ...o };
  const copied = {} as Record<CopiedTable, number>;
  for (const t of COPIED_TABLES) copied[t] = await copyTable(lite, pg, t, opts);
  const closed = await closeEnded(lite, pg);
  // Resets and runs copied after the usage change which rows a total covers: rebuild them all once more.
  if (Object.values(copied).some((n) => n > 0) || closed.runs + closed.reservations > 0) {
    await immediate(pg, (trx) => trx.deleteFrom("budget_totals").execute());
  }
  return { copied, closed };
}
