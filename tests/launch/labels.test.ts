/**
 * Labels are claimed in the ledger, atomically, so launches that start at the same moment in different
 * processes always get distinct labels; they are compared by slug (case folded, `.` and `_` as `-`); and
 * a label names the live run that holds it, or else the latest run that had it, for `bottle logs`,
 * `bottle resume` and `budget usage --run`. The multi-process claims go through the launcher's own
 * transaction; the end-to-end test launches real Claude Code runs at once through the real CLI.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { FileSink, Subprocess } from "bun";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { holdsLabel, labelSlug, uniqueLabel } from "../../src/launch/label.ts";
import { connectLedger, endRun, listRuns, recordUsage, registerRun, setRunState } from "../../src/ledger/index.ts";
import { findRun } from "../../src/runs/find.ts";
import { AGENTS_BIN } from "../helpers/agent-suite.ts";
import { freshWorkspace } from "../helpers/bottles.ts";
import { freshHome, runCli } from "../support/cli.ts";
import { ledgerFile } from "../support/enforce-db.ts";
import { lineReader } from "../support/lines.ts";

const SUPPORT = join(import.meta.dir, "../support");
let procs: Subprocess[] = [];
afterEach(() => {
  for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
  procs = [];
});

describe("labels by slug", () => {
  test("case and . _ - do not make two labels different", () => {
    expect(labelSlug("My_Run.2")).toBe("my-run-2");
    expect(uniqueLabel("Race", ["race"])).toBe("Race-2");
    expect(uniqueLabel("race", ["RACE", "Race-2"])).toBe("race-3");
    expect(uniqueLabel("my_run", ["my-run"])).toBe("my_run-2");
  });

  test("a frozen run keeps its label; a running one whose process on this host is gone does not", () => {
    const alive = (pid: number) => pid === 1;
    expect(holdsLabel({ state: "frozen", host: "h", pid: null }, "h", alive)).toBe(true);
    expect(holdsLabel({ state: "running", host: "h", pid: 1 }, "h", alive)).toBe(true);
    expect(holdsLabel({ state: "running", host: "h", pid: 2 }, "h", alive)).toBe(false);
    expect(holdsLabel({ state: "running", host: "other", pid: 2 }, "h", alive)).toBe(true);
    expect(holdsLabel({ state: "ended", host: "h", pid: 1 }, "h", alive)).toBe(false);
  });
});

describe("claiming labels in the ledger", () => {
  test("8 processes × 5 launches asking for one label at once get 40 distinct labels", async () => {
    const file = ledgerFile();
    connectLedger({ path: file }).destroy(); // migrated once, so the race is the claims, not the schema
    procs = Array.from({ length: 8 }, (_, i) => Bun.spawn(["bun", join(SUPPORT, "label-claimer.ts"), file, `p${i}`, "race", "5", String(process.pid)], { stdin: "pipe", stdout: "pipe", stderr: "inherit" }));
    const lines = procs.map((p) => lineReader(p.stdout as ReadableStream<Uint8Array>));
    expect(await Promise.all(lines.map((l) => l()))).toEqual(Array(8).fill("ready"));
    for (const p of procs) {
      (p.stdin as FileSink).write("go\n");
      (p.stdin as FileSink).end();
    }
    const got = (await Promise.all(lines.map(async (l) => JSON.parse(await l()) as string[]))).flat();
    expect(await Promise.all(procs.map((p) => p.exited))).toEqual(Array(8).fill(0));
    expect(new Set(got).size).toBe(40);
    expect(new Set(got)).toEqual(new Set(["race", ...Array.from({ length: 39 }, (_, i) => `race-${i + 2}`)]));
    const db = connectLedger({ path: file });
    const rows = await listRuns(db);
    expect(new Set(rows.map((r) => r.label)).size).toBe(40);
    await db.destroy();
  }, 60_000);
});

describe("a label names a run", () => {
  test("the live run holding it, else the latest run that had it; two live holders are an error listing both ids", async () => {
    const db = connectLedger({ path: ledgerFile() });
    const t = Date.now() - 60_000;
    await registerRun(db, { id: "old", label: "nightly", agent: "claude", pid: null, startedAt: t });
    await endRun(db, "old", { exitCode: 0 });
    await registerRun(db, { id: "new", label: "nightly", agent: "claude", pid: null, startedAt: t + 1000 });
    await endRun(db, "new", { exitCode: 0 });
    expect((await findRun(db, "nightly")).id).toBe("new");
    expect((await findRun(db, "NIGHTLY")).id).toBe("new");
    await registerRun(db, { id: "live", label: "Nightly", agent: "claude", pid: null, startedAt: t - 5000 });
    expect((await findRun(db, "nightly")).id).toBe("live");
    await registerRun(db, { id: "twin", label: "nightly", agent: "claude", pid: null, startedAt: t + 2000 });
    await setRunState(db, "twin", "frozen", null);
    await expect(findRun(db, "nightly")).rejects.toThrow('label "nightly" is held by 2 runs: twin (frozen), live (running)');
    await expect(findRun(db, "nightlyy")).rejects.toThrow('no run "nightlyy" in the ledger');
    await db.destroy();
  });

  test("bottle logs and budget usage --run take the label of an ended run", async () => {
    const home = freshHome();
    const db = connectLedger({ path: join(home, "bottle.db") });
    await registerRun(db, { id: "r-1", label: "sim", agent: "claude", pid: null, startedAt: Date.now() - 5000 });
    await recordUsage(db, [{ runId: "r-1", provider: "claude", inputTokens: 10, outputTokens: 5, totalTokens: 15, at: Date.now() - 4000 }]);
    await endRun(db, "r-1", { exitCode: 0 });
    await registerRun(db, { id: "r-2", label: "other", agent: "claude", pid: null });
    await recordUsage(db, [{ runId: "r-2", provider: "claude", inputTokens: 100, outputTokens: 50, totalTokens: 150, at: Date.now() }]);
    await endRun(db, "r-2", { exitCode: 0 });
    await db.destroy();
    const logs = await runCli(["logs", "SIM"], { home });
    expect(logs.stderr).toContain("no egress records for run r-1");
    expect(logs.code).toBe(0);
    const usage = await runCli(["budget", "usage", "--run", "sim", "--json"], { home });
    expect(usage.code).toBe(0);
    const report = JSON.parse(usage.stdout);
    expect(report.rows.map((r: { key: string }) => r.key)).toEqual(["r-1"]);
    expect(report.total.totalTokens).toBe(15);
  });
});

describe("bottle run, launched four at a time", () => {
  test("four simultaneous headless Claude Code runs get four distinct labels, and resume takes one by label", async () => {
    if (!existsSync(join(AGENTS_BIN, "claude"))) throw new Error(`claude is not installed in ${AGENTS_BIN}: run bash scripts/install-agents.sh`);
    const home = freshHome();
    const cwd = freshWorkspace();
    const env = { PATH: `${AGENTS_BIN}:${process.env.PATH}` };
    const runs = await Promise.all(
      [0, 1, 2, 3].map(() => runCli(["run", "claude", "--headless", "--prompt", "say hi", "--simulate", "--backend", "sandbox"], { home, cwd, env, timeoutMs: 150_000 })),
    );
    for (const r of runs) expect({ code: r.code, timedOut: r.timedOut, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, timedOut: false, stderr: "" });
    const db = connectLedger({ path: join(home, "bottle.db") });
    const labels = (await listRuns(db)).map((r) => r.label).sort();
    await db.destroy();
    expect(labels).toEqual(["claude", "claude-2", "claude-3", "claude-4"]);
    // The runs are over; a label still names the latest of them.
    const resumed = await runCli(["resume", "claude-3", "--headless", "--prompt", "and again"], { home, cwd, env, timeoutMs: 150_000 });
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/continuing ended run \S+ as run/);
  }, 400_000);
});
