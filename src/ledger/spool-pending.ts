/**
 * What a host's spool still holds that the ledger does not: `bottle budget usage` reports from the ledger,
 * so usage delivered while the fleet database was down is missing from its numbers until a writer sends
 * it, and the user must be told. A spool file may also hold rows whose commit landed just before the
 * process died (the spool.ts "insert once" case); those are in the ledger already and are not counted here.
 */
import { sql } from "kysely";
import type { LedgerDb } from "./database.ts";
import { isPostgres } from "./dialect.ts";
import { orphanSpools, readSpool } from "./spool.ts";
import { bottleHome } from "../paths.ts";

export interface PendingSpool {
  /** Usage rows waiting in the spool. */
  rows: number;
  /** Their total tokens. */
  tokens: number;
  /** Spool files holding them. */
  files: number;
}

export async function pendingSpool(db: LedgerDb, home = bottleHome()): Promise<PendingSpool> {
  const files = orphanSpools(home, true);
  const out: PendingSpool = { rows: 0, tokens: 0, files: 0 };
  for (const f of files) {
    const rows = readSpool(f);
    let landed = new Set<string>();
    if (rows.length > 0 && isPostgres(db)) {
      // uid exists only on the Postgres schema (the only ledger a writer spools for).
      const got = await sql<{ uid: string }>`select uid from usage_events where uid = any(${rows.map((r) => r.uid)})`.execute(db);
      landed = new Set(got.rows.map((r) => r.uid));
    }
    const left = rows.filter((r) => !landed.has(r.uid));
    if (left.length === 0) continue;
    out.files++;
    out.rows += left.length;
    for (const r of left) out.tokens += Number.isFinite(r.event.totalTokens) ? r.event.totalTokens : 0;
  }
  return out;
}
