/**
 * The usage report behind `bottle budget usage`: token sums from usage_events grouped by run, agent,
 * bottle, provider or model over a time range, plus the grand total. The total is its own query, so it
 * equals the ledger's sum exactly even when groups overlap (by bottle, a run that composed two bottles
 * counts under each). SQLite-specific: bottles are expanded with json_each (Postgres: jsonb_array_elements_text).
 */
import { isPostgres } from "./dialect.ts";
import { sql, type RawBuilder } from "kysely";
import type { LedgerDb } from "./database.ts";

export const USAGE_GROUPS = ["run", "agent", "bottle", "provider", "model"] as const;
export type UsageGroupBy = (typeof USAGE_GROUPS)[number];

export interface UsageTotals {
  runs: number;
  /** Metered generations (token-count calls are not usage). */
  requests: number;
  /** Token-count calls (`count_tokens`, `input_tokens`): recorded as calls, zero usage. */
  countCalls: number;
  /** Requests on paths a route opted out of metering (`unmetered:`): let through, never counted. */
  unmeteredCalls: number;
  /** Requests whose usage was partly estimated (interrupted streams). */
  estimated: number;
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  totalTokens: number;
}

export interface UsageGroup extends UsageTotals {
  /** The run id, agent, bottle, provider or model ("" when the row has none). */
  key: string;
  /** By run: the run's label and agent. */
  label?: string;
  agent?: string;
  firstAt: string;
  lastAt: string;
}

export interface UsageQuery {
  by: UsageGroupBy;
  /** Inclusive lower bound (ms since epoch). */
  since?: number;
  /** Exclusive upper bound (ms since epoch). */
  until?: number;
  /** Only this run's usage. */
  run?: string;
}

export interface UsageReport {
  groupBy: UsageGroupBy;
  since: string | null;
  until: string | null;
  rows: UsageGroup[];
  total: UsageTotals;
}

const num = (v: unknown) => Number(v ?? 0);
const sum = (col: string, alias: string) => sql<number>`coalesce(sum(${sql.ref(`u.${col}`)}), 0)`.as(alias);

function measures(): RawBuilder<unknown>[] {
  return [
    sql`count(distinct u.run_id)`.as("runs"),
    sql`coalesce(sum(case when u.kind = 'usage' then 1 else 0 end), 0)`.as("requests"),
    sql`coalesce(sum(case when u.kind = 'count' then 1 else 0 end), 0)`.as("count_calls"),
    sql`coalesce(sum(case when u.kind = 'unmetered' then 1 else 0 end), 0)`.as("unmetered_calls"),
    sum("estimated", "estimated"),
    sum("input_tokens", "input_tokens"),
    sum("output_tokens", "output_tokens"),
    sum("cache_creation_tokens", "cache_creation_tokens"),
    sum("cache_read_tokens", "cache_read_tokens"),
    sum("cached_tokens", "cached_tokens"),
    sum("reasoning_tokens", "reasoning_tokens"),
    sum("total_tokens", "total_tokens"),
    sql`min(u.created_at)`.as("first_at"),
    sql`max(u.created_at)`.as("last_at"),
  ] as unknown as RawBuilder<unknown>[];
}

function totalsOf(r: Record<string, unknown>): UsageTotals {
  return {
    runs: num(r.runs),
    requests: num(r.requests),
    countCalls: num(r.count_calls),
    unmeteredCalls: num(r.unmetered_calls),
    estimated: num(r.estimated),
    inputTokens: num(r.input_tokens),
    outputTokens: num(r.output_tokens),
    cacheCreationTokens: num(r.cache_creation_tokens),
    cacheReadTokens: num(r.cache_read_tokens),
    cachedTokens: num(r.cached_tokens),
    reasoningTokens: num(r.reasoning_tokens),
    totalTokens: num(r.total_tokens),
  };
}

function keyOf(by: UsageGroupBy): RawBuilder<string> {
  switch (by) {
    case "run":
      return sql<string>`u.run_id`;
    case "agent":
      return sql<string>`u.agent`;
    case "provider":
      return sql<string>`u.provider`;
    case "model":
      return sql<string>`coalesce(u.model, '')`;
    case "bottle":
      return sql<string>`coalesce(b.value, '')`;
  }
}

export async function usageReport(db: LedgerDb, q: UsageQuery): Promise<UsageReport> {
  const range = (since?: number, until?: number) =>
    sql`${since !== undefined ? sql`u.created_at >= ${since}` : sql`1 = 1`} and ${until !== undefined ? sql`u.created_at < ${until}` : sql`1 = 1`} and ${q.run !== undefined ? sql`u.run_id = ${q.run}` : sql`1 = 1`}`;
  const bottles = isPostgres(db) ? sql`left join lateral json_array_elements_text(u.bottles::json) as b(value) on true` : sql`left join json_each(u.bottles) as b`;
  const from = q.by === "bottle" ? sql`usage_events as u ${bottles}` : sql`usage_events as u`;
  const key = keyOf(q.by);
  const runCols = q.by === "run" ? sql`, (select label from runs where runs.id = u.run_id) as label, (select agent from runs where runs.id = u.run_id) as run_agent` : sql``;
  const grouped = await sql<Record<string, unknown>>`
    select ${key} as key, ${sql.join(measures())} ${runCols}
    from ${from}
    where ${range(q.since, q.until)}
    group by 1
    order by total_tokens desc, key asc`.execute(db);
  const total = await sql<Record<string, unknown>>`select ${sql.join(measures())} from usage_events as u where ${range(q.since, q.until)}`.execute(db);
  const rows = grouped.rows.map((r): UsageGroup => {
    const g: UsageGroup = { key: String(r.key ?? ""), ...totalsOf(r), firstAt: new Date(num(r.first_at)).toISOString(), lastAt: new Date(num(r.last_at)).toISOString() };
    if (q.by === "run") {
      g.label = String(r.label ?? "");
      g.agent = String(r.run_agent ?? "");
    }
    return g;
  });
  return {
    groupBy: q.by,
    since: q.since !== undefined ? new Date(q.since).toISOString() : null,
    until: q.until !== undefined ? new Date(q.until).toISOString() : null,
    rows,
    total: totalsOf(total.rows[0] ?? {}),
  };
}
