/**
 * Migration 0001: runs, usage, reservations, enforcement actions, control commands and budget reset markers
 * (everything budgets and enforcement need). Timestamps are integer milliseconds since the epoch; lists of
 * bottle names are JSON text. Written with kysely's schema builder; `integer primary key` is SQLite's rowid
 * alias (a Postgres ledger would use an identity column in its own migrations).
 */
import type { Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("runs")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("label", "text", (c) => c.notNull())
    .addColumn("color", "text")
    .addColumn("agent", "text", (c) => c.notNull())
    .addColumn("provider", "text")
    .addColumn("bottles", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("chain", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("backend", "text")
    .addColumn("host", "text")
    .addColumn("pid", "integer")
    .addColumn("state", "text", (c) => c.notNull().defaultTo("running"))
    .addColumn("started_at", "integer", (c) => c.notNull())
    .addColumn("ended_at", "integer")
    .addColumn("exit_code", "integer")
    .addColumn("stop_reason", "text")
    .execute();
  await db.schema.createIndex("runs_agent").on("runs").column("agent").execute();
  await db.schema.createIndex("runs_state").on("runs").column("state").execute();

  const tokens = ["input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens", "cached_tokens", "reasoning_tokens"];
  let usage = db.schema
    .createTable("usage_events")
    .addColumn("id", "integer", (c) => c.primaryKey())
    .addColumn("run_id", "text", (c) => c.notNull())
    .addColumn("agent", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("bottles", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("chain", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("provider", "text", (c) => c.notNull())
    .addColumn("format", "text")
    .addColumn("kind", "text", (c) => c.notNull().defaultTo("usage"))
    .addColumn("model", "text")
    .addColumn("host", "text")
    .addColumn("method", "text")
    .addColumn("path", "text")
    .addColumn("status", "integer");
  for (const t of tokens) usage = usage.addColumn(t, "integer", (c) => c.notNull().defaultTo(0));
  await usage
    .addColumn("total_tokens", "integer", (c) => c.notNull())
    .addColumn("estimated", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("errored", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("request_id", "text")
    .addColumn("exchange_id", "text")
    .addColumn("started_at", "integer")
    .addColumn("first_byte_ms", "integer")
    .addColumn("duration_ms", "integer")
    .addColumn("created_at", "integer", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("usage_run_time").on("usage_events").columns(["run_id", "created_at"]).execute();
  await db.schema.createIndex("usage_provider_time").on("usage_events").columns(["provider", "created_at"]).execute();
  await db.schema.createIndex("usage_time").on("usage_events").column("created_at").execute();

  await db.schema
    .createTable("reservations")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("run_id", "text", (c) => c.notNull())
    .addColumn("provider", "text", (c) => c.notNull())
    .addColumn("tokens", "integer", (c) => c.notNull())
    .addColumn("created_at", "integer", (c) => c.notNull())
    .addColumn("released_at", "integer")
    .addColumn("settled_tokens", "integer")
    .execute();
  await db.schema.createIndex("reservations_open").on("reservations").columns(["released_at", "run_id"]).execute();

  await db.schema
    .createTable("enforcement_actions")
    .addColumn("id", "integer", (c) => c.primaryKey())
    .addColumn("run_id", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("trigger", "text", (c) => c.notNull())
    .addColumn("scope", "text")
    .addColumn("provider", "text")
    .addColumn("used", "integer")
    .addColumn("limit_tokens", "integer")
    .addColumn("detail", "text")
    .addColumn("created_at", "integer", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("actions_run_time").on("enforcement_actions").columns(["run_id", "created_at"]).execute();

  await db.schema
    .createTable("commands")
    .addColumn("id", "integer", (c) => c.primaryKey())
    .addColumn("run_id", "text", (c) => c.notNull())
    .addColumn("command", "text", (c) => c.notNull())
    .addColumn("created_at", "integer", (c) => c.notNull())
    .addColumn("done_at", "integer")
    .addColumn("result", "text")
    .execute();
  await db.schema.createIndex("commands_pending").on("commands").columns(["run_id", "done_at"]).execute();

  await db.schema
    .createTable("budget_resets")
    .addColumn("id", "integer", (c) => c.primaryKey())
    .addColumn("scope", "text", (c) => c.notNull())
    .addColumn("scope_key", "text", (c) => c.notNull())
    .addColumn("provider", "text")
    .addColumn("created_at", "integer", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("resets_scope").on("budget_resets").columns(["scope", "scope_key", "created_at"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ["budget_resets", "commands", "enforcement_actions", "reservations", "usage_events", "runs"]) await db.schema.dropTable(t).execute();
}
