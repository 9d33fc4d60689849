/**
 * A real ledger file for enforcement tests: the product's own SQLite ledger (WAL, busy_timeout, every
 * migration), with helpers to register runs and charge usage through the ledger's repository, the way
 * the launcher and the metering hooks do.
 */
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import type { Kysely } from "kysely";
import type { EnforceTables } from "../../src/enforce/sql-store.ts";
import { freshPgLedger, onPostgres } from "./postgres.ts";
import { connectLedger, recordUsage, registerRun, type LedgerDb } from "../../src/ledger/index.ts";

/** A new ledger: an SQLite file, or (BOTTLE_TEST_LEDGER=postgres) a fresh database on the test cluster. */
export function ledgerFile(): string {
  if (onPostgres()) return freshPgLedger();
  return join(mkdtempSync(join(process.env.TMPDIR!, "ledger-")), "bottle.db");
}

/** The migrated ledger at `file` (migrations run before the first query), typed as enforcement sees it. */
export function openTestLedger(file: string): Kysely<EnforceTables> {
  return connectLedger({ path: file }) as unknown as Kysely<EnforceTables>;
}

const asLedger = (db: Kysely<EnforceTables>) => db as unknown as LedgerDb;

export async function addRun(db: Kysely<EnforceTables>, r: { id: string; agent: string; bottles?: string[]; chain?: string[]; pid?: number | null }): Promise<void> {
  await registerRun(asLedger(db), { id: r.id, agent: r.agent, bottles: r.bottles ?? [], chain: r.chain ?? r.bottles ?? [], pid: r.pid ?? null });
}

export async function charge(db: Kysely<EnforceTables>, runId: string, provider: string, tokens: number, at = Date.now()): Promise<void> {
  await recordUsage(asLedger(db), [{ runId, provider, totalTokens: tokens, at }]);
}
