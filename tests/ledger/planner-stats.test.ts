/**
 * Opening a ledger that has grown gives SQLite's planner statistics, so counting one run's usage (the
 * query a `--budget` run's admission and every dashboard row make) reads the run's own events through the
 * (run_id, created_at) index instead of every event of the provider. A ledger that another process holds
 * locked still opens; its statistics wait for a later open.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { openLedger, recordUsage, registerRun } from "../../src/ledger/index.ts";
import { ledgerFile } from "../support/enforce-db.ts";

/** The plan of enforcement's run-scope count (src/enforce/sql-store.ts usedTokens for scope "run"). */
function runCountPlan(file: string): string {
  const raw = new Database(file, { readonly: true });
  const plan = raw
    .query<{ detail: string }, [string, number, string]>(
      "explain query plan select coalesce(sum(usage_events.total_tokens), 0) from usage_events inner join runs on runs.id = usage_events.run_id where usage_events.provider = ? and usage_events.created_at >= ? and runs.id = ?",
    )
    .all("claude", 0, "r7")
    .map((r) => r.detail)
    .join(" | ");
  raw.close();
  return plan;
}

async function grownLedger(): Promise<string> {
  const file = ledgerFile();
  const db = await openLedger({ path: file });
  for (let r = 0; r < 200; r++) await registerRun(db, { id: `r${r}`, agent: "claude", provider: "claude", pid: null });
  const events = Array.from({ length: 20_000 }, (_, i) => ({ runId: `r${i % 200}`, provider: i % 3 ? "claude" : "codex", totalTokens: 100, at: 1_700_000_000_000 + i }));
  await recordUsage(db, events);
  await db.destroy();
  return file;
}

describe("planner statistics", () => {
  test("after the ledger grew, the next open analyzes it and a run's count uses the run's index", async () => {
    const file = await grownLedger();
    expect(runCountPlan(file)).toContain("usage_provider_time"); // no statistics yet: the planner guesses
    const db = await openLedger({ path: file });
    await db.destroy();
    expect(runCountPlan(file)).toContain("USING INDEX usage_run_time (run_id=? AND created_at>?)");
  });

  test("a ledger another process holds the write lock on still opens, and is analyzed at a later open", async () => {
    const file = await grownLedger();
    const holder = new Database(file);
    holder.exec("begin immediate");
    const db = await openLedger({ path: file });
    await db.destroy();
    expect(runCountPlan(file)).toContain("usage_provider_time");
    holder.exec("rollback");
    holder.close();
    await (await openLedger({ path: file })).destroy();
    expect(runCountPlan(file)).toContain("usage_run_time");
  });
});
