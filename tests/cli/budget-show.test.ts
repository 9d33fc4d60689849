/**
 * `bottle budget set` / `show` / `reset` through the real CLI (NO_COLOR, TZ=UTC, a temp BOTTLE_HOME), with
 * usage written to that home's real ledger: set followed by show round-trips on a commented settings.yml
 * and an agent's frontmatter and every comment survives; windows are shown in the configured zone; a
 * window changed while usage exists recounts the same history; a reset mid-window restarts the count from
 * zero while every usage row stays; narrowing to an agent and bottles marks the governing layer.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BudgetRow } from "../../src/budget/report.ts";
import { windowAt } from "../../src/budget/windows.ts";
import { connectLedger, recordUsage, registerRun, type LedgerDb } from "../../src/ledger/index.ts";
import type { BudgetView } from "../../src/runs/budget-view.ts";
import { freshHome, runCli, runCliJson } from "../support/cli.ts";
import { killStandins, startStandin } from "../support/standin.ts";

const SETTINGS = `# Host settings for bottle.
budget:            # tokens per provider
  claude: 5000000  # the team's Anthropic allowance

# What happens when a budget runs out.
shutdown: cutoff   # cutoff | freeze | kill
timezone: Asia/Kolkata
`;

const AGENT = `---
# The reviewer reads and never writes.
provider: claude   # Anthropic's CLI
bottle: web
budget:
  claude: { tokens: 40000, per: day }   # small on purpose
---
Review the change.
`;

const BOTTLES = {
  base: "---\n# the shared parent\negress:\n  routes:\n    - host: api.anthropic.com\nbudget:\n  claude: { tokens: 90000, per: week }\n---\n",
  web: "---\nextends: [base]\n---\n",
};

let home: string;
let db: LedgerDb;
const now = Date.now();
// Usage at the first instant of today's window (in the configured zone), so it counts whenever the test runs.
const today = windowAt(now, "day", "Asia/Kolkata").start;
const rows = (v: BudgetView) => v.budgets.map((r: BudgetRow) => ({ scope: r.scope, name: r.name, provider: r.provider, limit: r.limit, used: r.used }));

beforeAll(async () => {
  home = freshHome();
  writeFileSync(join(home, "settings.yml"), SETTINGS);
  mkdirSync(join(home, "agents"));
  mkdirSync(join(home, "bottles"));
  writeFileSync(join(home, "agents", "reviewer.md"), AGENT);
  for (const [name, text] of Object.entries(BOTTLES)) writeFileSync(join(home, "bottles", `${name}.md`), text);
  db = connectLedger({ path: join(home, "bottle.db") });
  await registerRun(db, { id: "r-1", agent: "reviewer", bottles: ["web"], chain: ["base", "web"], pid: null });
  await registerRun(db, { id: "r-2", agent: "claude", bottles: ["base"], chain: ["base"], pid: null });
  await recordUsage(db, [
    { runId: "r-1", provider: "claude", totalTokens: 1000, at: today },
    { runId: "r-2", provider: "claude", totalTokens: 200, at: today },
    { runId: "r-1", provider: "claude", totalTokens: 30, at: today - 8 * 86_400_000 }, // last week
  ]);
  // The runs are over: live runs are listed separately.
  await db.updateTable("runs").set({ state: "ended", ended_at: now }).execute();
});
afterEach(killStandins);
afterAll(() => db?.destroy());

describe("set then show on a commented settings.yml", () => {
  test("the new budget shows with its file and window, and every comment and blank line survives", async () => {
    const set = await runCliJson<{ file: string; changed: boolean }>(["budget", "set", "global", "codex", "250000", "--per", "day"], { home });
    expect(set).toMatchObject({ file: join(home, "settings.yml"), changed: true });
    expect(readFileSync(join(home, "settings.yml"), "utf8")).toBe(SETTINGS.replace("  claude: 5000000  # the team's Anthropic allowance\n", "  claude: 5000000  # the team's Anthropic allowance\n  codex: { tokens: 250000, per: day }\n"));

    const view = await runCliJson<BudgetView>(["budget", "show"], { home });
    expect(view.timeZone).toBe("Asia/Kolkata");
    const codex = view.budgets.find((r) => r.provider === "codex")!;
    expect(codex).toMatchObject({ scope: "global", limit: 250000, used: 0, remaining: 250000, per: "day", file: join(home, "settings.yml"), window: "per day (Asia/Kolkata)" });
    expect(codex.windowStart).toMatch(/T00:00:00\+05:30$/);
    expect(Date.parse(codex.windowEnd!) - Date.parse(codex.windowStart!)).toBe(86_400_000);
    expect(rows(view)).toEqual([
      { scope: "agent", name: "reviewer", provider: "claude", limit: 40000, used: 1000 },
      { scope: "bottle", name: "base", provider: "claude", limit: 90000, used: 200 },
      { scope: "parent", name: "base", provider: "claude", limit: 90000, used: 1200 },
      { scope: "global", name: undefined, provider: "claude", limit: 5000000, used: 1230 },
      { scope: "global", name: undefined, provider: "codex", limit: 250000, used: 0 },
    ]);
  });

  test("changing an existing value keeps the comment on its line; the table names the file", async () => {
    await runCliJson(["budget", "set", "global", "claude", "6000000"], { home });
    expect(readFileSync(join(home, "settings.yml"), "utf8")).toContain("  claude: 6000000  # the team's Anthropic allowance\n");
    const r = await runCli(["budget", "show"], { home });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("SCOPE");
    expect(r.stdout).toMatch(/global\s+claude\s+1,230\s+6,000,000\s+5,998,770\s+none\s+.*settings\.yml/);
  });

  test("an agent's frontmatter budget round-trips, and its markdown body and comments are untouched", async () => {
    await runCliJson(["budget", "set", "agent", "reviewer", "claude", "50000"], { home });
    const text = readFileSync(join(home, "agents", "reviewer.md"), "utf8");
    expect(text).toBe(AGENT.replace("{ tokens: 40000, per: day }", "{ tokens: 50000, per: day }"));
    const view = await runCliJson<BudgetView>(["budget", "show", "--agent", "reviewer"], { home });
    expect(view.bottles).toEqual(["web"]);
    expect(view.budgets.map((r) => [r.scope, r.limit, r.governs])).toEqual([
      ["agent", 50000, true],
      ["parent", 90000, false],
      ["global", 6000000, false],
      // reviewer is a claude agent: its runs spend only claude tokens, so the codex budget never governs them.
      ["global", 250000, false],
    ]);
    expect(view.shutdown).toEqual({ value: "cutoff", from: "settings", file: join(home, "settings.yml") });
  });
});

describe("windows while usage exists", () => {
  test("changing an agent's window recounts the same history: day, week, none", async () => {
    const used = async () => (await runCliJson<BudgetView>(["budget", "show", "--agent", "reviewer"], { home })).budgets[0]!.used;
    expect(await used()).toBe(1000);
    await runCliJson(["budget", "set", "agent", "reviewer", "claude", "50000", "--per", "month"], { home });
    // Last week's 30 tokens count once the window is long enough (8 days ago may be last month).
    const month = await used();
    expect([1000, 1030]).toContain(month);
    await runCliJson(["budget", "set", "agent", "reviewer", "claude", "50000", "--per", "none"], { home });
    expect(await used()).toBe(1030);
    expect(readFileSync(join(home, "agents", "reviewer.md"), "utf8")).toContain("claude: { tokens: 50000 }   # small on purpose");
    await runCliJson(["budget", "set", "agent", "reviewer", "claude", "50000", "--per", "day"], { home });
    expect(await used()).toBe(1000);
  });
});

describe("reset", () => {
  test("a reset mid-window restarts the count from zero; usage rows survive; later usage counts", async () => {
    const before = await db.selectFrom("usage_events").selectAll().orderBy("id").execute();
    const done = await runCliJson<{ scope: string; name: string; provider: string; at: string }>(["budget", "reset", "agent", "reviewer", "claude"], { home });
    expect(done).toMatchObject({ scope: "agent", name: "reviewer", provider: "claude" });
    const view = await runCliJson<BudgetView>(["budget", "show"], { home });
    const agent = view.budgets.find((r) => r.scope === "agent")!;
    expect(agent).toMatchObject({ used: 0, remaining: 50000 });
    // Shown to the second, in the configured zone.
    expect(agent.resetAt).toMatch(/\+05:30$/);
    expect(Date.parse(agent.resetAt!)).toBe(Math.floor(Date.parse(done.at) / 1000) * 1000);
    // Other scopes are untouched by that marker.
    expect(view.budgets.find((r) => r.scope === "global" && r.provider === "claude")!.used).toBe(1230);
    expect(await db.selectFrom("usage_events").selectAll().orderBy("id").execute()).toEqual(before);

    await Bun.sleep(5);
    await recordUsage(db, [{ runId: "r-1", provider: "claude", totalTokens: 7, at: Date.now() }]);
    const after = await runCliJson<BudgetView>(["budget", "show"], { home });
    expect(after.budgets.find((r) => r.scope === "agent")!.used).toBe(7);
  });

  test("a parent reset and a global one; every provider when none is named", async () => {
    await runCliJson(["budget", "reset", "parent", "base"], { home });
    await runCliJson(["budget", "reset", "global"], { home });
    const view = await runCliJson<BudgetView>(["budget", "show"], { home });
    for (const r of view.budgets.filter((b) => b.scope !== "agent")) expect(r.used).toBe(0);
  });

  test("typos are errors that say what exists; nothing is written", async () => {
    const markers = async () => (await db.selectFrom("budget_resets").selectAll().execute()).length;
    const n = await markers();
    const agent = await runCli(["budget", "reset", "agent", "reveiwer"], { home });
    expect(agent.code).toBe(1);
    expect(agent.stderr).toContain('no agent named "reveiwer"');
    expect(agent.stderr).toContain("did you mean reviewer?");
    const run = await runCli(["budget", "reset", "run", "r-9"], { home });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no run "r-9"');
    const scope = await runCli(["budget", "reset", "agnet", "x"], { home });
    expect(scope.code).toBe(2);
    expect(scope.stderr).toContain("did you mean agent?");
    expect(await markers()).toBe(n);
  });
});

describe("show narrowed and its errors", () => {
  test("--bottle alone lists the bottle's layers and the global budget", async () => {
    const view = await runCliJson<BudgetView>(["budget", "show", "--bottle", "web"], { home });
    expect(view.bottles).toEqual(["web"]);
    expect(view.budgets.map((r) => [r.scope, r.name, r.governs])).toEqual([
      ["parent", "base", true],
      ["global", undefined, false],
      ["global", undefined, true],
    ]);
  });

  test("an unknown agent or bottle is an error naming the closest one", async () => {
    const r = await runCli(["budget", "show", "--bottle", "wbe"], { home });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no bottle named "wbe"');
    expect(r.stderr).toContain("did you mean web?");
  });

  test("an empty home shows that no budget is set", async () => {
    const empty = freshHome();
    const r = await runCli(["budget", "show"], { home: empty });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("No budgets are set.");
    expect(await runCliJson(["budget", "show"], { home: empty })).toMatchObject({ timeZone: "UTC", budgets: [], runs: [] });
  });
});

describe("live runs", () => {
  test("each live run is listed with the budget that governs it, counted for that run; a run whose owner has exited is not", async () => {
    const s = await startStandin(join(home, "bottle.db"), "live-show", "reviewer", ["web"]);
    await recordUsage(db, [{ runId: "live-show", provider: "claude", totalTokens: 55, at: Date.now() }]);
    const view = await runCliJson<BudgetView>(["budget", "show"], { home });
    expect(view.runs.map((r) => r.runId)).toEqual(["live-show"]);
    const [run] = view.runs;
    expect(run).toMatchObject({ runId: "live-show", label: "reviewer", agent: "reviewer", bottles: ["web"] });
    // The agent's budget governs claude (its count covers every reviewer run); the global one governs codex.
    expect(run!.budgets.map((r) => [r.provider, r.scope, r.limit])).toEqual([
      ["claude", "agent", 50000],
      ["codex", "global", 250000],
    ]);
    // Counted over the agent's scope, so it matches the agent's row, which includes the run's 55.
    const agentRow = view.budgets.find((r) => r.scope === "agent")!;
    expect(run!.budgets[0]!.used).toBe(agentRow.used);
    expect(agentRow.used).toBeGreaterThanOrEqual(55);
    const text = await runCli(["budget", "show"], { home });
    expect(text.stdout).toContain("Live run live-show (reviewer: agent reviewer in web):");
    // Narrowed to another agent, the run is not listed.
    expect((await runCliJson<BudgetView>(["budget", "show", "--agent", "claude"], { home })).runs).toEqual([]);
    // A run launched with --budget (recorded in its launch.json) is held to it, for every provider.
    mkdirSync(join(home, "runs", "live-show"), { recursive: true });
    writeFileSync(join(home, "runs", "live-show", "launch.json"), JSON.stringify({ version: 1, request: { agent: "reviewer", budget: 777 } }));
    const flagged = (await runCliJson<BudgetView>(["budget", "show"], { home })).runs[0]!;
    expect(flagged.budgets.map((r) => [r.provider, r.scope, r.limit, r.used, r.file])).toEqual([
      ["claude", "run", 777, 55, undefined],
      ["codex", "run", 777, 0, undefined],
      ["pi", "run", 777, 0, undefined],
    ]);
    expect((await runCli(["budget", "show"], { home })).stdout).toMatch(/run\s+claude\s+55\s+777\s+722\s+none\s+--budget/);
    process.kill(-s.bottlePid, "SIGKILL");
    expect(await s.proc.exited).toBe(0);
    expect((await runCliJson<BudgetView>(["budget", "show"], { home })).runs).toEqual([]);
  });
});
