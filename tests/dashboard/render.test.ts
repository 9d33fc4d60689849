/**
 * Frames of the dashboard, rendered from the model of a seeded real ledger: the whole `--once` frame without
 * color, the live view's selection, detail and keys, a command's outcome on its row, the kill question,
 * colors only when asked for (the run's own color on its label), every line within the width and the live
 * frame within the height, and the egress log view.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { layersFor } from "../../src/budget/precedence.ts";
import { renderFrame, type Screen } from "../../src/cli/dashboard/render.ts";
import { readDashboard } from "../../src/dashboard/model.ts";
import type { DashboardModel } from "../../src/dashboard/types.ts";
import { connectLedger, type EgressAuditRow, type LedgerDb } from "../../src/ledger/index.ts";
import type { BudgetSpec } from "../../src/manifest/types.ts";
import { deadPid, seedDashboard } from "../support/dashboard-seed.ts";
import { ledgerFile } from "../support/enforce-db.ts";

const NOW = Date.parse("2026-11-24T12:00:00Z");
const settings = { file: "/h/settings.yml", budget: { claude: { tokens: 5_000_000, per: "day" } } as BudgetSpec };
const agentBudgets: Record<string, BudgetSpec> = { claude: { claude: { tokens: 100_000 } }, pi: { claude: { tokens: 1_000 } } };

let db: LedgerDb;
let model: DashboardModel;
beforeAll(async () => {
  db = connectLedger({ path: ledgerFile() });
  await seedDashboard(db, NOW, { alive: process.pid, dead: await deadPid(), host: "h" });
  model = await readDashboard(db, {
    timeZone: "UTC",
    now: NOW,
    hostName: "h",
    settings,
    layersOf: (run) =>
      layersFor({
        ...(run.id === "r-cut" ? { runBudget: { tokens: 40_000 } } : {}),
        agent: { name: run.agent, file: `/h/agents/${run.agent}.md`, ...(agentBudgets[run.agent] ? { budget: agentBudgets[run.agent] } : {}) },
        settings,
      }),
  });
});
afterAll(() => db.destroy());

const once: Screen = { width: 100, color: false, interactive: false };
const live = (o: Partial<Screen> = {}): Screen => ({ width: 110, height: 40, color: false, interactive: true, ...o });
const ESC = /\x1b\[/;

describe("--once", () => {
  test("the whole frame, plain text", () => {
    expect(renderFrame(model, { notes: {} }, once).join("\n")).toBe(
      [
        "bottle dashboard · 5 runs, 3 live · 2026-11-24 12:00:00 UTC",
        "",
        "LABEL     AGENT   PROVIDER  BACKEND  STATE    AGE  TOKENS  LAST  RATE  BUDGET",
        "freezer   pi      pi        sandbox  frozen   50m   1,000   41m   0/m  ██████ 100% agent",
        "reviewer  claude  claude    sandbox  running  12m  45,000   20s   1/m  ███░░░  54% agent",
        "cutter    codex   codex     docker   cut off   5m  50,000    3m   0/m  ██████ 125% run",
        "crashed   claude  claude    sandbox  ended     6m       0     -   0/m  ███░░░  54% agent",
        "old       claude  claude    sandbox  ended    20m   2,000   11m   0/m  ███░░░  54% agent",
        "",
        "HOST TOTALS  tokens today · the global budget over its window",
        "claude    48,000  ░░░░░░░░░░░░   0%  48,000 of 5,000,000 tokens used, 4,952,000 left, per day (UTC)",
        "codex     50,000  no global budget",
        "",
        "RECENT ACTIONS",
        "11:58:20  cutter   cutoff   by user",
        "11:20:00  freezer  freeze   by budget, 1,000 of 1,000 claude tokens, agent pi budget",
      ].join("\n"),
    );
  });

  test("no run at all says how to start one", () => {
    const empty = renderFrame({ ...model, runs: [], providers: [], actions: [] }, { notes: {} }, once);
    expect(empty).toEqual(["bottle dashboard · 0 runs, 0 live · 2026-11-24 12:00:00 UTC", "", "no runs on the ledger in the last hour: start one with `bottle run`"]);
  });
});

describe("the live view", () => {
  test("selection marker, the selected run's detail, its command outcome on its row, and the keys", () => {
    const lines = renderFrame(model, { selected: "r-cut", notes: { "r-cut": { text: "cutoff: done", tone: "ok" } }, message: { text: "cutter: cutoff: done", tone: "ok" } }, live());
    expect(lines.find((l) => l.startsWith("› "))).toBe("› cutter    codex   codex     docker   cut off   5m  50,000    3m   0/m  █████████ 125%  ← cutoff: done");
    expect(lines).toContain(`cutter  run r-cut · codex in openai · docker · pid ${process.pid} on h · started 11:54:30`);
    expect(lines).toContain("  budget  run: 50,000 of 40,000 codex tokens used, 0 left, no window");
    expect(lines).toContain("  state   cut off (cutoff by user) · last request 11:56:40");
    expect(lines).toContain("  sent    cutoff: done");
    expect(lines).toHaveLength(40); // the keys sit on the last line however long the body is
    expect(lines.slice(-2)).toEqual(["cutter: cutoff: done", "↑↓/Kj select  c cutoff  f freeze  k kill  r restore  l egress log  q quit"]);
  });

  test("a kill waits on the status line for y/N", () => {
    const lines = renderFrame(model, { selected: "r-rev", notes: {}, confirm: { runId: "r-rev", label: "reviewer" } }, live());
    expect(lines.at(-2)).toBe("kill reviewer (run r-rev) now, without saving? y/N");
  });

  test("every line fits the width and the frame fits the height, the selection staying in view", () => {
    for (const [width, height] of [[60, 12], [80, 9], [200, 50], [40, 6]] as const) {
      const lines = renderFrame(model, { selected: "r-old", notes: {} }, live({ width, height }));
      expect(lines.length).toBeLessThanOrEqual(height);
      for (const l of lines) expect(l.length).toBeLessThanOrEqual(width);
      if (height >= 9) expect(lines.some((l) => l.startsWith("› old"))).toBe(true);
    }
  });

  test("colors only when asked: the run's color on its label, inverse on the selected row", () => {
    expect(renderFrame(model, { selected: "r-rev", notes: {} }, live()).some((l) => ESC.test(l))).toBe(false);
    const colored = renderFrame(model, { selected: "r-cut", notes: {} }, live({ color: true }));
    expect(colored.find((l) => l.includes("reviewer"))).toContain("\x1b[36;1mreviewer");
    expect(colored.find((l) => l.includes("cutter"))).toContain(";7m");
  });
});

describe("the egress log view", () => {
  const rec = (id: number, decision: string, status: number, path: string, reason: string | null = null): EgressAuditRow => ({
    id,
    run_id: "r-rev",
    created_at: NOW - (10 - id) * 1000,
    host: "api.anthropic.com",
    method: "POST",
    path,
    status,
    decision,
    reason,
    bytes_up: 2048,
    bytes_down: 512,
    duration_ms: 40 + id,
  });

  test("the latest records, newest last, and an empty log explained", () => {
    const log = [rec(1, "mitm", 200, "/v1/messages"), rec(2, "refuse", 429, "/v1/messages", "budget"), rec(3, "deny", 403, "/", "no route")];
    const view = { selected: "r-rev", notes: {}, log: { runId: "r-rev", label: "reviewer" } };
    const lines = renderFrame(model, view, live({ height: 9 }), log);
    expect(lines).toEqual([
      "bottle dashboard · 5 runs, 3 live · 2026-11-24 12:00:00 UTC",
      "",
      "EGRESS LOG  reviewer (run r-rev), latest last",
      "TIME      DECISION  STATUS  METHOD        UP     DOWN      MS  HOST / PATH",
      "11:59:52  refuse    429     POST        2.0K     512B      42  api.anthropic.com/v1/messages  (budget)",
      "11:59:53  deny      403     POST        2.0K     512B      43  api.anthropic.com/  (no route)",
      "",
      "",
      "l/Esc back to the runs  q quit",
    ]);
    const none = renderFrame(model, view, live(), []);
    expect(none[3]).toStartWith("no egress records for this run yet; with `egress.log: blocks` (the default)");
    expect(none.at(-1)).toBe("l/Esc back to the runs  q quit");
  });
});

test("an ended run that has a provenance record links to it in its detail, and only an ended run", async () => {
  const withRecords = await readDashboard(db, { timeZone: "UTC", now: NOW, hostName: "h", settings, recordOf: (id) => `/h/runs/${id}/provenance.json` });
  const old = withRecords.runs.find((r) => r.runId === "r-old")!;
  expect(old.record).toBe("/h/runs/r-old/provenance.json");
  expect(withRecords.runs.filter((r) => r.status !== "ended").every((r) => r.record === undefined)).toBe(true);
  const lines = renderFrame(withRecords, { selected: "r-old", notes: {} }, live());
  expect(lines).toContain("  record  bottle report r-old  /h/runs/r-old/provenance.json");
  expect(renderFrame(model, { selected: "r-old", notes: {} }, live()).some((l) => l.includes("bottle report"))).toBe(false);
});
