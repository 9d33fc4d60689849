/**
 * The dashboard on a ledger that several hosts share, through the real CLI: runs of two hosts are listed
 * together with a HOST column and each run's host in --json (`hosts` names them); another host's run whose
 * pid means nothing here stays running. A ledger with one host's runs keeps the frame it always had.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { openLedger, recordUsage, registerRun } from "../../src/ledger/index.ts";
import { freshHome, runCli, runCliJson } from "../support/cli.ts";
import { deadPid } from "../support/dashboard-seed.ts";

setDefaultTimeout(60_000);

type Model = { hosts: string[]; runs: Array<{ label: string; host: string | null; status: string }> };

test("runs of two hosts on one ledger: a HOST column, and each run's host in --json", async () => {
  const home = freshHome();
  const db = await openLedger({ path: join(home, "bottle.db") });
  const gone = await deadPid();
  const now = Date.now();
  try {
    await registerRun(db, { id: "r-here", label: "local-fix", agent: "coder", provider: "claude", host: "laptop-1", pid: process.pid, backend: "sandbox", startedAt: now - 60_000 });
    // Runs of one host only: no HOST column.
    const single = await runCli(["dashboard", "--once"], { home, env: { BOTTLE_HOST_NAME: "laptop-1" } });
    expect(single.code).toBe(0);
    expect(single.stdout).toContain("LABEL      AGENT  PROVIDER");
    expect(single.stdout).not.toContain("HOST ");
    expect((await runCliJson<Model>(["dashboard"], { home, env: { BOTTLE_HOST_NAME: "laptop-1" } })).hosts).toEqual(["laptop-1"]);

    // A CI runner's run on the same ledger; its pid is dead here, which says nothing about the runner.
    await registerRun(db, { id: "r-ci", label: "ci-review", agent: "reviewer", provider: "claude", host: "ci-runner-7", pid: gone, backend: "docker", startedAt: now - 30_000 });
    await recordUsage(db, [{ runId: "r-ci", provider: "claude", totalTokens: 1234, at: now - 10_000 }]);

    const frame = await runCli(["dashboard", "--once"], { home, env: { BOTTLE_HOST_NAME: "laptop-1" } });
    expect(frame.code).toBe(0);
    const lines = frame.stdout.split("\n");
    expect(lines).toContainEqual(expect.stringMatching(/^LABEL\s+AGENT\s+HOST\s+PROVIDER\s+BACKEND\s+STATE/));
    expect(lines).toContainEqual(expect.stringMatching(/^local-fix\s+coder\s+laptop-1\s+claude\s+sandbox\s+running/));
    expect(lines).toContainEqual(expect.stringMatching(/^ci-review\s+reviewer\s+ci-runner-7\s+claude\s+docker\s+running\s+\S+\s+1,234/));

    const j = await runCliJson<Model>(["dashboard"], { home, env: { BOTTLE_HOST_NAME: "laptop-1" } });
    expect(j.hosts).toEqual(["ci-runner-7", "laptop-1"]);
    expect(j.runs.map((r) => [r.label, r.host, r.status])).toEqual([
      ["local-fix", "laptop-1", "running"],
      ["ci-review", "ci-runner-7", "running"],
    ]);
  } finally {
    await db.destroy();
  }
});
