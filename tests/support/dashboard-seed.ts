/**
 * A ledger with one run in every state the dashboard shows, written through the ledger's own repositories
 * and enforcement's port (as launches, metering and enforcement write them), at times relative to `now`:
 *   reviewer  running, 45,000 claude tokens, a request 20 s ago, a token-count call (not a request)
 *   cutter    cut off by the user, 50,000 codex tokens
 *   freezer   frozen by its budget (a pi agent metered as claude)
 *   old       ended ten minutes ago, exit 0
 *   ancient   ended two hours ago (not listed), its usage two days back
 *   crashed   still "running" in its row, but its process is gone
 */
import { sqlEnforceStore } from "../../src/enforce/sql-store.ts";
import { endRun, recordUsage, registerRun, setRunState, type LedgerDb } from "../../src/ledger/index.ts";

export async function deadPid(): Promise<number> {
  const p = Bun.spawn(["true"]);
  await p.exited;
  return p.pid;
}

export async function seedDashboard(db: LedgerDb, now: number, pids: { alive: number; dead: number; host: string }): Promise<void> {
  const s = (sec: number) => now - sec * 1000;
  const run = (id: string, label: string, agent: string, provider: string, bottles: string[], startedSec: number, extra: { color?: string; backend?: string; pid?: number | null } = {}) =>
    registerRun(db, { id, label, agent, provider, bottles, startedAt: s(startedSec), host: pids.host, backend: extra.backend ?? "sandbox", pid: extra.pid ?? null, ...(extra.color ? { color: extra.color } : {}) });
  await run("r-rev", "reviewer", "claude", "claude", ["anthropic"], 750, { color: "cyan", pid: pids.alive });
  await run("r-cut", "cutter", "codex", "codex", ["openai"], 330, { color: "yellow", backend: "docker", pid: pids.alive });
  await run("r-frz", "freezer", "pi", "pi", ["anthropic"], 3000, { pid: pids.alive });
  await run("r-old", "old", "claude", "claude", ["anthropic"], 1200, { pid: pids.dead });
  await run("r-anc", "ancient", "claude", "claude", ["anthropic"], 9000, { pid: pids.dead });
  await run("r-crash", "crashed", "claude", "claude", ["anthropic"], 400, { pid: pids.dead });

  const use = (runId: string, provider: string, totalTokens: number, sec: number, kind: "usage" | "count" = "usage") => ({ runId, provider, totalTokens, at: s(sec), kind });
  await recordUsage(db, [
    use("r-rev", "claude", 12_000, 700),
    use("r-rev", "claude", 30_000, 150),
    use("r-rev", "claude", 3_000, 20),
    use("r-rev", "claude", 0, 10, "count"),
    use("r-cut", "codex", 50_000, 200),
    use("r-frz", "claude", 1_000, 2500),
    use("r-old", "claude", 2_000, 700),
    use("r-anc", "claude", 7_000, 2 * 86_400),
  ]);

  const store = sqlEnforceStore(db);
  await store.transaction(async (tx) => {
    await tx.recordAction({ runId: "r-frz", kind: "freeze", trigger: "budget", scope: "agent pi budget", provider: "claude", used: 1_000, limit: 1_000, detail: "budget used up", at: s(2400) });
    await tx.recordAction({ runId: "r-cut", kind: "cutoff", trigger: "user", detail: "cutoff by user", at: s(100) });
  });
  await setRunState(db, "r-frz", "frozen", null);
  await endRun(db, "r-old", { exitCode: 0, at: s(600) });
  await endRun(db, "r-anc", { exitCode: 1, stopReason: "budget", at: s(7200) });
}
