/**
 * Migration 0004: one key per budget. Usage used to be counted under the provider of the API host (a pi
 * agent calling Anthropic's API was recorded as `claude`), while budgets are keyed by the agent's provider
 * name, so a `pi` budget never saw pi's tokens. From now on every metered exchange of a run is recorded under
 * the run's provider; this rewrites the rows written before, and open reservations, the same way. Rows of
 * runs without a provider (`bottle proxy` without `--provider`) keep the host's provider. The running
 * totals (0003) were summed under the old keys, so they are dropped: each is rebuilt from usage_events the
 * first time a budget reads it.
 */
import { sql, type Kysely } from "kysely";

const RUN_PROVIDER = sql`(select r.provider from runs as r where r.id = run_id and r.provider is not null and r.provider <> '')`;

export async function up(db: Kysely<any>): Promise<void> {
  for (const table of ["usage_events", "reservations"]) {
    await sql`update ${sql.table(table)} set provider = ${RUN_PROVIDER} where ${RUN_PROVIDER} is not null and provider <> ${RUN_PROVIDER}`.execute(db);
  }
  await sql`delete from budget_totals`.execute(db);
}

export async function down(): Promise<void> {
  // The host each row came from is kept (usage_events.host), but not which provider it mapped to then;
  // rows stay under the run's provider.
}
