/**
 * What a live view of the ledger asks every half second: how much each shown run has used, when it last
 * made a request and how many it made in the last stretch, and what enforcement did lately. The queries are
 * narrowed to the runs on screen (the usage index is by run and time), so their cost does not grow with the
 * ledger's history.
 */
import { sql } from "kysely";
import type { LedgerDb } from "./database.ts";

export interface RunActivity {
  runId: string;
  /** Tokens charged to the run, every provider. */
  tokens: number;
  /** Tokens per provider (only providers the run used). */
  byProvider: Record<string, number>;
  /** Metered generations (token-count calls are not requests that spend). */
  requests: number;
  /** Requests recorded at or after `recentSince`. */
  recentRequests: number;
  /** When the last request was recorded (ms), if any. */
  lastAt?: number;
}

/** Usage of each run in `runIds`; a run with no usage gets zeros. */
export async function runActivity(db: LedgerDb, runIds: readonly string[], recentSince: number): Promise<Map<string, RunActivity>> {
  const out = new Map<string, RunActivity>(runIds.map((id) => [id, { runId: id, tokens: 0, byProvider: {}, requests: 0, recentRequests: 0 }]));
  if (runIds.length === 0) return out;
  const rows = await db
    .selectFrom("usage_events")
    .select([
      "run_id",
      "provider",
      sql<number>`coalesce(sum(total_tokens), 0)`.as("tokens"),
      sql<number>`coalesce(sum(case when kind = 'count' then 0 else 1 end), 0)`.as("requests"),
      sql<number>`coalesce(sum(case when kind <> 'count' and created_at >= ${recentSince} then 1 else 0 end), 0)`.as("recent"),
      sql<number | null>`max(case when kind = 'count' then null else created_at end)`.as("last_at"),
    ])
    .where("run_id", "in", [...runIds])
    .groupBy(["run_id", "provider"])
    .execute();
  for (const r of rows) {
    const a = out.get(r.run_id)!;
    const tokens = Number(r.tokens);
    a.tokens += tokens;
    if (tokens > 0) a.byProvider[r.provider] = tokens;
    a.requests += Number(r.requests);
    a.recentRequests += Number(r.recent);
    if (r.last_at !== null) a.lastAt = Math.max(a.lastAt ?? 0, Number(r.last_at));
  }
  return out;
}

export interface ActionEntry {
  runId: string;
  /** The run's label ("" when the run row is gone). */
  label: string;
  kind: string;
  trigger: string;
  scope: string | null;
  provider: string | null;
  used: number | null;
  limit: number | null;
  detail: string | null;
  at: number;
}

/** The latest enforcement actions on the ledger, newest first (refusals left out: one per request). */
export async function recentActions(db: LedgerDb, limit: number): Promise<ActionEntry[]> {
  const rows = await db
    .selectFrom("enforcement_actions as a")
    .leftJoin("runs as r", "r.id", "a.run_id")
    .select(["a.run_id", "r.label", "a.kind", "a.trigger", "a.scope", "a.provider", "a.used", "a.limit_tokens", "a.detail", "a.created_at"])
    .where("a.kind", "<>", "refuse")
    .orderBy("a.created_at", "desc")
    .orderBy("a.id", "desc")
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    runId: r.run_id,
    label: r.label ?? "",
    kind: r.kind,
    trigger: r.trigger,
    scope: r.scope,
    provider: r.provider,
    used: r.used,
    limit: r.limit_tokens,
    detail: r.detail,
    at: r.created_at,
  }));
}
