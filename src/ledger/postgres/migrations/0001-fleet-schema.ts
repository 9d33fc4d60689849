/**
 * Postgres migration 0001: the whole ledger schema as SQLite's migrations 0001–0004 leave it, in one step
 * (a fleet ledger starts at today's schema; it has no older rows to rewrite). Every instant and token count
 * is `bigint` (milliseconds since the epoch overflow Postgres's 32-bit integer), ids are identity columns,
 * and bottle lists stay JSON text so that rows read the same on both dialects. `usage_events.uid` is the
 * writer's id for a row: a row replayed from the local spool after an outage is inserted once.
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
    .addColumn("pid", "bigint")
    .addColumn("state", "text", (c) => c.notNull().defaultTo("running"))
    .addColumn("started_at", "bigint", (c) => c.notNull())
    .addColumn("ended_at", "bigint")
    .addColumn("exit_code", "bigint")
    .addColumn("stop_reason", "text")
    .execute();
  await db.schema.createIndex("runs_agent").on("runs").column("agent").execute();
  await db.schema.createIndex("runs_state").on("runs").column("state").execute();

  const tokens = ["input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens", "cached_tokens", "reasoning_tokens"];
  let usage = db.schema
    .createTable("usage_events")
    .addColumn("id", "bigint", (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn("uid", "text", (c) => c.unique())
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
    .addColumn("status", "bigint");
  for (const t of tokens) usage = usage.addColumn(t, "bigint", (c) => c.notNull().defaultTo(0));
  await usage
    .addColumn("total_tokens", "bigint", (c) => c.notNull())
    .addColumn("estimated", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("errored", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("request_id", "text")
    .addColumn("exchange_id", "text")
    .addColumn("started_at", "bigint")
    .addColumn("first_byte_ms", "bigint")
    .addColumn("duration_ms", "bigint")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("usage_run_time").on("usage_events").columns(["run_id", "created_at"]).execute();
  await db.schema.createIndex("usage_provider_time").on("usage_events").columns(["provider", "created_at"]).execute();
  await db.schema.createIndex("usage_time").on("usage_events").column("created_at").execute();

  await db.schema
    .createTable("reservations")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("run_id", "text", (c) => c.notNull())
    .addColumn("provider", "text", (c) => c.notNull())
    .addColumn("tokens", "bigint", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("released_at", "bigint")
    .addColumn("settled_tokens", "bigint")
    .execute();
  await db.schema.createIndex("reservations_open").on("reservations").columns(["released_at", "run_id"]).execute();

  await db.schema
    .createTable("enforcement_actions")
    .addColumn("id", "bigint", (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn("run_id", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("trigger", "text", (c) => c.notNull())
    .addColumn("scope", "text")
    .addColumn("provider", "text")
    .addColumn("used", "bigint")
    .addColumn("limit_tokens", "bigint")
    .addColumn("detail", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("actions_run_time").on("enforcement_actions").columns(["run_id", "created_at"]).execute();

  await db.schema
    .createTable("commands")
    .addColumn("id", "bigint", (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn("run_id", "text", (c) => c.notNull())
    .addColumn("command", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("done_at", "bigint")
    .addColumn("result", "text")
    .execute();
  await db.schema.createIndex("commands_pending").on("commands").columns(["run_id", "done_at"]).execute();

  await db.schema
    .createTable("budget_resets")
    .addColumn("id", "bigint", (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn("scope", "text", (c) => c.notNull())
    .addColumn("scope_key", "text", (c) => c.notNull())
    .addColumn("provider", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("resets_scope").on("budget_resets").columns(["scope", "scope_key", "created_at"]).execute();

  await db.schema
    .createTable("egress_audit")
    .addColumn("id", "bigint", (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn("run_id", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("host", "text", (c) => c.notNull())
    .addColumn("method", "text", (c) => c.notNull())
    .addColumn("path", "text", (c) => c.notNull())
    .addColumn("status", "bigint", (c) => c.notNull())
    .addColumn("decision", "text", (c) => c.notNull())
    .addColumn("reason", "text")
    .addColumn("bytes_up", "bigint", (c) => c.notNull())
    .addColumn("bytes_down", "bigint", (c) => c.notNull())
    .addColumn("duration_ms", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("audit_run_time").on("egress_audit").columns(["run_id", "created_at"]).execute();

  await db.schema
    .createTable("budget_totals")
    .addColumn("scope", "text", (c) => c.notNull())
    .addColumn("scope_key", "text", (c) => c.notNull())
    .addColumn("provider", "text", (c) => c.notNull())
    .addColumn("window_start", "bigint", (c) => c.notNull())
    .addColumn("window_end", "bigint", (c) => c.notNull())
    .addColumn("since", "bigint", (c) => c.notNull())
    .addColumn("tokens", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("budget_totals_pk", ["scope", "scope_key", "provider", "window_start", "window_end"])
    .execute();
  await db.schema.createIndex("budget_totals_charge").on("budget_totals").columns(["provider", "window_end"]).execute();

  // What `bottle ledger migrate` copied from each host's SQLite ledger: the last id per table, so that a
  // second copy adds only what is new and nothing twice.
  await db.schema
    .createTable("ledger_imports")
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("table_name", "text", (c) => c.notNull())
    .addColumn("last_id", "bigint", (c) => c.notNull())
    .addColumn("imported_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("ledger_imports_pk", ["source", "table_name"])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ["ledger_imports", "budget_totals", "egress_audit", "budget_resets", "commands", "enforcement_actions", "reservations", "usage_events", "runs"]) {
    await db.schema.dropTable(t).execute();
  }
}
