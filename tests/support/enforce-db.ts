/**
 * A real SQLite ledger file for enforcement tests (WAL, busy_timeout), with helpers to register runs and
 * charge usage the way metering does.
 */
import { Database } from "bun:sqlite";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { Kysely, SqliteDialect, type SqliteDatabase } from "kysely";
import type { EnforceTables } from "../../src/enforce/sql-store.ts";

const SCHEMA = `
create table if not exists runs (id text primary key, agent text not null, bottles text not null, chain text not null, pid integer);
create table if not exists usage_events (id integer primary key, run_id text not null, provider text not null, total_tokens integer not null, created_at integer not null);
create table if not exists reservations (id text primary key, run_id text not null, provider text not null, tokens integer not null, created_at integer not null, released_at integer, settled_tokens integer);
create table if not exists enforcement_actions (id integer primary key, run_id text not null, kind text not null, trigger text not null, scope text, provider text, used integer, limit_tokens integer, detail text, created_at integer not null);
create table if not exists commands (id integer primary key, run_id text not null, command text not null, created_at integer not null, done_at integer, result text);
create table if not exists budget_resets (id integer primary key, scope text not null, scope_key text not null, provider text, created_at integer not null);
`;

export function ledgerFile(): string {
  return join(mkdtempSync(join(process.env.TMPDIR!, "ledger-")), "bottle.db");
}

export function openTestLedger(file: string): Kysely<EnforceTables> {
  const raw = new Database(file, { create: true });
  raw.exec("pragma journal_mode = wal; pragma busy_timeout = 10000;");
  raw.exec(SCHEMA);
  return new Kysely<EnforceTables>({ dialect: new SqliteDialect({ database: raw as unknown as SqliteDatabase }) });
}

export async function addRun(db: Kysely<EnforceTables>, r: { id: string; agent: string; bottles?: string[]; chain?: string[]; pid?: number | null }): Promise<void> {
  await db
    .insertInto("runs")
    .values({ id: r.id, agent: r.agent, bottles: JSON.stringify(r.bottles ?? []), chain: JSON.stringify(r.chain ?? r.bottles ?? []), pid: r.pid ?? null })
    .execute();
}

export async function charge(db: Kysely<EnforceTables>, runId: string, provider: string, tokens: number, at = Date.now()): Promise<void> {
  await db.insertInto("usage_events").values({ run_id: runId, provider, total_tokens: tokens, created_at: at }).execute();
}
