/**
 * One run's rows as a provenance record sums them: usage per provider, model and API format (every token
 * class in its own column), its enforcement actions, and its egress audit records — each narrowed to the
 * rows with ids up to a bound, so a record keeps describing the same rows when a resumed run adds more
 * under the same id. Reading them again is how `bottle report verify` checks a record against the ledger.
 */
import { sql } from "kysely";
import type { EgressAuditRow, LedgerDb } from "./database.ts";

export interface RowBounds {
  usageEvents: number;
  audit: number;
  actions: number;
}

export interface ModelUsageRow {
  provider: string;
  model: string;
  format: string;
  requests: number;
  countCalls: number;
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  totalTokens: number;
  estimated: number;
  errored: number;
}

export interface ActionRow {
  id: number;
  kind: string;
  trigger: string;
  scope: string | null;
  provider: string | null;
  used: number | null;
  limit: number | null;
  detail: string | null;
  at: number;
}

/** The highest row id of each table for this run now (0: none): what a record made now covers. */
export async function runRowBounds(db: LedgerDb, runId: string): Promise<RowBounds> {
  const max = async (table: "usage_events" | "egress_audit" | "enforcement_actions") =>
    Number((await db.selectFrom(table).select(sql<number>`coalesce(max(id), 0)`.as("m")).where("run_id", "=", runId).executeTakeFirstOrThrow()).m);
  return { usageEvents: await max("usage_events"), audit: await max("egress_audit"), actions: await max("enforcement_actions") };
}

const s = (col: string) => sql<number>`coalesce(sum(${sql.ref(col)}), 0)`;

export async function runModelUsage(db: LedgerDb, runId: string, upTo: number): Promise<ModelUsageRow[]> {
  const rows = await db
    .selectFrom("usage_events")
    .select([
      "provider",
      sql<string>`coalesce(model, '')`.as("model"),
      sql<string>`coalesce(format, '')`.as("format"),
      sql<number>`coalesce(sum(case when kind = 'count' then 0 else 1 end), 0)`.as("requests"),
      sql<number>`coalesce(sum(case when kind = 'count' then 1 else 0 end), 0)`.as("count_calls"),
      s("input_tokens").as("input"),
      s("output_tokens").as("output"),
      s("cache_creation_tokens").as("cache_creation"),
      s("cache_read_tokens").as("cache_read"),
      s("cached_tokens").as("cached"),
      s("reasoning_tokens").as("reasoning"),
      s("total_tokens").as("total"),
      s("estimated").as("estimated"),
      s("errored").as("errored"),
    ])
    .where("run_id", "=", runId)
    .where("id", "<=", upTo)
    .groupBy(["provider", sql`coalesce(model, '')`, sql`coalesce(format, '')`])
    .orderBy("provider")
    .orderBy(sql`coalesce(model, '')`)
    .orderBy(sql`coalesce(format, '')`)
    .execute();
  return rows.map((r) => ({
    provider: r.provider,
    model: r.model,
    format: r.format,
    requests: Number(r.requests),
    countCalls: Number(r.count_calls),
    inputTokens: Number(r.input),
    outputTokens: Number(r.output),
    cacheCreationTokens: Number(r.cache_creation),
    cacheReadTokens: Number(r.cache_read),
    cachedTokens: Number(r.cached),
    reasoningTokens: Number(r.reasoning),
    totalTokens: Number(r.total),
    estimated: Number(r.estimated),
    errored: Number(r.errored),
  }));
}

/** The run's enforcement actions (refusals included: each is an action taken), oldest first. */
export async function runActions(db: LedgerDb, runId: string, upTo: number): Promise<ActionRow[]> {
  const rows = await db.selectFrom("enforcement_actions").selectAll().where("run_id", "=", runId).where("id", "<=", upTo).orderBy("created_at").orderBy("id").execute();
  return rows.map((a) => ({ id: a.id, kind: a.kind, trigger: a.trigger, scope: a.scope, provider: a.provider, used: a.used, limit: a.limit_tokens, detail: a.detail, at: a.created_at }));
}

/** The run's audit records up to `upTo`, oldest first. */
export async function runAudit(db: LedgerDb, runId: string, upTo: number): Promise<EgressAuditRow[]> {
  return db.selectFrom("egress_audit").selectAll().where("run_id", "=", runId).where("id", "<=", upTo).orderBy("created_at").orderBy("id").execute();
}
