/**
 * The dashboard's view model from a real, migrated SQLite ledger seeded through the product's own
 * repositories: which runs are listed and in what order, each run's status and why, its usage, last request
 * and rate, the governing budget counted over its scope and window, the host totals against the global
 * budget, and the recent enforcement actions. Also: the snapshot the model is read in neither blocks nor
 * sees a concurrent writer.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "kysely";
import { layersFor } from "../../src/budget/precedence.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ENDED_LIMIT, KEEP_ENDED_MS, readDashboard, type DashboardInput } from "../../src/dashboard/model.ts";
import type { DashboardModel } from "../../src/dashboard/types.ts";
import { connectLedger, endRun, recordUsage, registerRun, snapshot, type LedgerDb, type RunInfo } from "../../src/ledger/index.ts";
import type { BudgetSpec } from "../../src/manifest/types.ts";
import { ledgerFile } from "../support/enforce-db.ts";
import { deadPid, seedDashboard } from "../support/dashboard-seed.ts";

const NOW = Date.parse("2026-11-24T12:00:00Z");
const settings = { file: "/h/settings.yml", budget: { claude: { tokens: 5_000_000, per: "day" } } as BudgetSpec };
const agentBudgets: Record<string, BudgetSpec> = { claude: { claude: { tokens: 100_000 } }, pi: { claude: { tokens: 1_000 } } };
const layersOf = (run: RunInfo) =>
  layersFor({
    ...(run.id === "r-cut" ? { runBudget: { tokens: 40_000 } } : {}),
    agent: { name: run.agent, file: `/h/agents/${run.agent}.md`, ...(agentBudgets[run.agent] ? { budget: agentBudgets[run.agent] } : {}) },
    settings,
  });

let db: LedgerDb;
let dead: number;
let model: DashboardModel;
const input = (): DashboardInput => ({ timeZone: "UTC", settings, layersOf, now: NOW, hostName: "this-host" });

beforeAll(async () => {
  db = connectLedger({ path: ledgerFile() });
  dead = await deadPid();
  await seedDashboard(db, NOW, { alive: process.pid, dead, host: "this-host" });
  model = await readDashboard(db, input());
});
afterAll(() => db.destroy());

const run = (id: string) => model.runs.find((r) => r.runId === id)!;

describe("runs", () => {
  test("live runs in the order they started, then ended ones, latest first; old ones drop off", () => {
    expect(model.runs.map((r) => `${r.label}:${r.status}`)).toEqual(["freezer:frozen", "reviewer:running", "cutter:cut off", "crashed:ended", "old:ended"]);
  });

  test("each status says why", () => {
    expect(model.runs.map((r) => r.reason ?? null)).toEqual(["freeze: budget, 1,000 of 1,000 claude tokens", null, "cutoff by user", `its process ${dead} is gone`, "exit 0"]);
  });

  test("a running run: identity, age, usage, last request and rate (token-count calls are not requests)", () => {
    const { budgets: _b, ...rest } = run("r-rev");
    expect(rest).toEqual({
      runId: "r-rev",
      label: "reviewer",
      color: "cyan",
      agent: "claude",
      provider: "claude",
      bottles: ["anthropic"],
      backend: "sandbox",
      host: "this-host",
      pid: process.pid,
      status: "running",
      startedAt: "2026-11-24T11:47:30Z",
      ageSeconds: 750,
      tokens: 45_000,
      tokensByProvider: { claude: 45_000 },
      requests: 3,
      lastRequestAt: "2026-11-24T11:59:40Z",
      lastRequestSecondsAgo: 20,
      requestsPerMinute: 1,
    });
    expect(run("r-old")).toMatchObject({ endedAt: "2026-11-24T11:50:00Z", tokens: 2_000, requestsPerMinute: 0, lastRequestSecondsAgo: 700 });
    expect(run("r-crash")).toMatchObject({ tokens: 0, requests: 0, requestsPerMinute: 0, budgets: [{ scope: "agent", used: 54_000 }] });
    expect(run("r-crash").lastRequestAt).toBeUndefined();
  });
});

describe("governing budgets", () => {
  test("an agent budget counts every run of the agent, ended ones and other days included", () => {
    expect(run("r-rev").budgets).toEqual([
      { scope: "agent", name: "claude", provider: "claude", limit: 100_000, window: "no window", timeZone: "UTC", used: 54_000, held: 0, remaining: 46_000, file: "/h/agents/claude.md", fraction: 0.54 },
    ]);
  });

  test("a --budget run budget, shown for the providers the run uses", () => {
    expect(run("r-cut").budgets.map((b) => `${b.scope}:${b.provider}:${b.used}/${b.limit}:${b.fraction}`)).toEqual(["run:codex:50000/40000:1.25"]);
    expect(run("r-cut").budgets[0]!.remaining).toBe(0);
  });

  test("several providers: the one nearest its limit comes first", async () => {
    const own = connectLedger({ path: ledgerFile() });
    await registerRun(own, { id: "two", agent: "claude", provider: "claude", pid: process.pid, host: "this-host", startedAt: NOW - 60_000 });
    const layers = () => layersFor({ runBudget: { tokens: 50_000 } });
    const gauges = async () => (await readDashboard(own, { ...input(), layersOf: layers })).runs[0]!.budgets.map((b) => `${b.provider}:${b.fraction}`);
    await recordUsage(own, [{ runId: "two", provider: "claude", totalTokens: 45_000, at: NOW - 2000 }]);
    expect(await gauges()).toEqual(["claude:0.9"]);
    await recordUsage(own, [{ runId: "two", provider: "codex", totalTokens: 49_000, at: NOW - 1000 }]);
    expect(await gauges()).toEqual(["codex:0.98", "claude:0.9"]);
    await own.destroy();
  });

  test("a pi agent metered as claude is held to its claude budget", () => {
    expect(run("r-frz").budgets.map((b) => `${b.scope} ${b.name}:${b.provider}:${b.fraction}`)).toEqual(["agent pi:claude:1"]);
  });

  test("without layers a run shows no budget", async () => {
    const bare = await readDashboard(db, { ...input(), layersOf: () => undefined });
    expect(bare.runs.every((r) => r.budgets.length === 0)).toBe(true);
  });
});

describe("host totals and actions", () => {
  test("per provider: today's tokens (not the ancient run's), and the global budget counted over today", () => {
    expect(model.providers).toEqual([
      {
        provider: "claude",
        tokens: 48_000,
        budget: {
          scope: "global",
          provider: "claude",
          limit: 5_000_000,
          per: "day",
          window: "per day (UTC)",
          timeZone: "UTC",
          windowStart: "2026-11-24T00:00:00Z",
          windowEnd: "2026-11-25T00:00:00Z",
          used: 48_000,
          held: 0,
          remaining: 4_952_000,
          file: "/h/settings.yml",
          fraction: 0.0096,
        },
      },
      { provider: "codex", tokens: 50_000 },
    ]);
  });

  test("recent enforcement actions, newest first, with the run's label", () => {
    expect(model.actions).toEqual([
      { at: "2026-11-24T11:58:20Z", runId: "r-cut", label: "cutter", kind: "cutoff", trigger: "user", detail: "cutoff by user" },
      { at: "2026-11-24T11:20:00Z", runId: "r-frz", label: "freezer", kind: "freeze", trigger: "budget", scope: "agent pi budget", provider: "claude", used: 1_000, limit: 1_000, detail: "budget used up" },
    ]);
    expect(model.at).toBe("2026-11-24T12:00:00Z");
  });

  test("an ended run stays listed for keepEndedMs", async () => {
    const m = await readDashboard(db, { ...input(), keepEndedMs: 3 * 3_600_000 });
    expect(m.runs.map((r) => r.label).slice(-3)).toEqual(["crashed", "old", "ancient"]);
    expect(m.runs.at(-1)!.reason).toBe("stopped: budget, exit 1");
  });
});

describe("ended-run retention", () => {
  test("the 10 latest runs that ended within the hour are listed, as the README says", async () => {
    const d = connectLedger({ path: ledgerFile() });
    for (let i = 0; i < 12; i++) {
      await registerRun(d, { id: `e${i}`, label: `e${i}`, agent: "claude", pid: null, startedAt: NOW - 50 * 60_000 });
      await endRun(d, `e${i}`, { exitCode: 0, at: NOW - (i + 1) * 60_000 });
    }
    await registerRun(d, { id: "stale", agent: "claude", pid: null, startedAt: NOW - 3 * 3_600_000 });
    await endRun(d, "stale", { exitCode: 0, at: NOW - KEEP_ENDED_MS - 1 });
    const m = await readDashboard(d, { timeZone: "UTC", now: NOW, hostName: "this-host" });
    expect(m.runs.map((r) => r.runId)).toEqual(Array.from({ length: ENDED_LIMIT }, (_, i) => `e${i}`));
    await d.destroy();
    const readme = readFileSync(join(import.meta.dir, "../../README.md"), "utf8").replace(/\s+/g, " ");
    expect(KEEP_ENDED_MS).toBe(3_600_000);
    expect(readme).toContain(`Ended runs stay listed for an hour, the ${ENDED_LIMIT} latest of them`);
  });
});

describe("the read snapshot", () => {
  test("a writer on another connection commits at once while the snapshot is open; the snapshot keeps its view", async () => {
    const file = ledgerFile();
    const reader = connectLedger({ path: file });
    const writer = connectLedger({ path: file, busyTimeoutMs: 0 });
    await recordUsage(writer, [{ runId: "x", provider: "claude", totalTokens: 5, at: NOW }]);
    const count = async (d: LedgerDb) => Number((await sql<{ n: number }>`select count(*) as n from usage_events`.execute(d)).rows[0]!.n);
    const seen = await snapshot(reader, async (conn) => {
      const before = await count(conn);
      await recordUsage(writer, [{ runId: "x", provider: "claude", totalTokens: 7, at: NOW }]); // BEGIN IMMEDIATE, no wait allowed
      return [before, await count(conn)];
    });
    expect(seen).toEqual([1, 1]);
    expect(await count(reader)).toBe(2);
    await reader.destroy();
    await writer.destroy();
  });
});
