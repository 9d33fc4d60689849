/**
 * What a run comes to once its agent has exited, read back from the ledger (the only place every part of
 * the run wrote to): usage totals, and whether a budget stopped it. The process exit code follows from
 * that: the agent's own, or EXIT_BUDGET_STOPPED when the run's governing budget was crossed and its cutoff
 * policy applied, so CI can tell "the agent failed" from "the agent ran out of budget".
 */
import { sql } from "kysely";
import type { LedgerDb } from "../ledger/index.ts";
import { SHUTDOWN_POLICIES, type ProviderName, type ShutdownPolicy } from "../manifest/types.ts";
import { EXIT_BUDGET_STOPPED, type RunOutcome, type StoppedBy, type UsageTotals } from "./types.ts";

export async function usageTotals(db: LedgerDb, runId: string): Promise<UsageTotals> {
  const r = await db
    .selectFrom("usage_events")
    .select([
      sql<number>`count(*)`.as("requests"),
      sql<number>`coalesce(sum(input_tokens), 0)`.as("input"),
      sql<number>`coalesce(sum(output_tokens), 0)`.as("output"),
      sql<number>`coalesce(sum(total_tokens), 0)`.as("total"),
    ])
    .where("run_id", "=", runId)
    .where("kind", "=", "usage")
    .executeTakeFirstOrThrow();
  return { requests: Number(r.requests), inputTokens: Number(r.input), outputTokens: Number(r.output), totalTokens: Number(r.total) };
}

/**
 * The budget action that stopped the run since `since` (ms; a resumed run's earlier stop does not count),
 * if one did: the first, since later ones find the run already stopped.
 */
export async function budgetStop(db: LedgerDb, runId: string, since = 0): Promise<StoppedBy | undefined> {
  const a = await db
    .selectFrom("enforcement_actions")
    .selectAll()
    .where("run_id", "=", runId)
    .where("trigger", "like", "budget%")
    .where("created_at", ">=", since)
    .orderBy("created_at")
    .orderBy("id")
    .executeTakeFirst();
  if (!a || !(SHUTDOWN_POLICIES as readonly string[]).includes(a.kind)) return undefined;
  return {
    scope: a.scope ?? "budget",
    policy: a.kind as ShutdownPolicy,
    used: a.used ?? 0,
    limit: a.limit_tokens ?? 0,
    ...(a.provider ? { provider: a.provider as ProviderName } : {}),
  };
}

export function resumeCommand(runId: string): string {
  return `bottle resume ${runId}`;
}

export async function readOutcome(db: LedgerDb, runId: string, exitCode: number, frozen: boolean, since = 0): Promise<RunOutcome> {
  const stoppedBy = await budgetStop(db, runId, since);
  return { runId, exitCode, ...(stoppedBy ? { stoppedBy } : {}), usage: await usageTotals(db, runId), resumeCommand: resumeCommand(runId), frozen };
}

/** The exit code of `bottle run`: the agent's own, unless a budget stopped the run. */
export function exitCodeFor(o: RunOutcome): number {
  return o.stoppedBy || o.refused ? EXIT_BUDGET_STOPPED : o.exitCode;
}

/** The one-line reason printed to stderr when a budget stopped the run. */
export function stopLine(o: RunOutcome): string | undefined {
  const s = o.stoppedBy;
  if (!s) return o.refused ? `bottle: run ${o.runId} ended on a budget refusal: ${o.refused.replace(/^bottle: /, "")} (exit ${EXIT_BUDGET_STOPPED}; the agent exited ${o.exitCode})` : undefined;
  const what = s.policy === "freeze" ? "frozen" : s.policy === "kill" ? "killed" : "cut off";
  return `bottle: run ${o.runId} was ${what} by its budget: ${s.scope}: ${s.used} of ${s.limit}${s.provider ? ` ${s.provider}` : ""} tokens used (exit ${EXIT_BUDGET_STOPPED}; the agent exited ${o.exitCode})`;
}

/** The one-line reason printed when a user (the dashboard, `bottle stop`) froze, killed or stopped the run. */
export function userStopLine(o: RunOutcome): string {
  const what = o.stoppedByUser === "freeze" ? "frozen" : o.stoppedByUser === "kill" ? "killed (torn down without saving)" : "stopped";
  return `bottle: run ${o.runId} was ${what} by the user (the agent exited ${o.exitCode})`;
}

export function usageLine(o: RunOutcome): string {
  const u = o.usage;
  return `bottle: run ${o.runId}: ${u.requests} metered request${u.requests === 1 ? "" : "s"}, ${u.totalTokens} tokens (${u.inputTokens} in, ${u.outputTokens} out)`;
}
