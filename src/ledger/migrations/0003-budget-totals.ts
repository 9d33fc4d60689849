/**
 * Migration 0003: running totals per (scope, scope key, provider, window), so that admission costs the
 * same on a fresh ledger and on one with a year of usage. The table starts empty: which totals exist
 * depends on the budgets in force (and on settings.yml's time zone), which a migration cannot know, so
 * each row is rebuilt from usage_events the first time a budget reads it, and from then on kept current
 * by every charge (src/ledger/totals.ts).
 */
import type { Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("budget_totals")
    .addColumn("scope", "text", (c) => c.notNull())
    .addColumn("scope_key", "text", (c) => c.notNull())
    .addColumn("provider", "text", (c) => c.notNull())
    .addColumn("window_start", "integer", (c) => c.notNull())
    .addColumn("window_end", "integer", (c) => c.notNull())
    .addColumn("since", "integer", (c) => c.notNull())
    .addColumn("tokens", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("budget_totals_pk", ["scope", "scope_key", "provider", "window_start", "window_end"])
    .execute();
  // A charge finds the rows of its provider whose window contains the event.
  await db.schema.createIndex("budget_totals_charge").on("budget_totals").columns(["provider", "window_end"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("budget_totals").execute();
}
