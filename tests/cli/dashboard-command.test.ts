/**
 * `bottle dashboard --json` and `--once`, run as the real compiled binary with a pinned environment
 * (NO_COLOR=1, TZ=UTC, COLUMNS=100, a temp BOTTLE_HOME) against a ledger seeded through the product's own
 * repositories. The JSON is the model the dashboard computes in-process for the same home (only the clock
 * differs); the frame is plain text within 100 columns; without a terminal and without either flag the
 * command refuses with a usage error instead of waiting for keys that never come.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { readDashboard } from "../../src/dashboard/model.ts";
import type { DashboardModel } from "../../src/dashboard/types.ts";
import { readRequestFile } from "../../src/launch/request-file.ts";
import { connectLedger, type LedgerDb, type RunInfo } from "../../src/ledger/index.ts";
import { loadCatalog, loadSettings } from "../../src/manifest/index.ts";
import { runDir } from "../../src/paths.ts";
import { runLayers } from "../../src/runs/budget-view.ts";
import { cliEnv, runCompiled, type CliEnv } from "../helpers/compiled-cli.ts";
import { deadPid, seedDashboard } from "../support/dashboard-seed.ts";

let where: CliEnv;
let db: LedgerDb;

beforeAll(async () => {
  where = cliEnv();
  writeFileSync(join(where.home, "settings.yml"), "budget:\n  claude: 5000000\n");
  // cutter was launched with --budget 40000: its launch.json says so.
  mkdirSync(runDir("r-cut", where.home), { recursive: true });
  writeFileSync(join(runDir("r-cut", where.home), "launch.json"), JSON.stringify({ version: 1, request: { agent: "codex", headless: true, budget: 40_000 } }));
  db = connectLedger({ path: join(where.home, "bottle.db") });
  await seedDashboard(db, Date.now(), { alive: process.pid, dead: await deadPid(), host: hostname() });
});
afterAll(() => db.destroy());

/** The fields that move with the clock between the binary's read and this one. */
function stable(m: DashboardModel) {
  return { ...m, at: "", runs: m.runs.map(({ ageSeconds: _a, lastRequestSecondsAgo: _l, ...r }) => r) };
}

describe("bottle dashboard --json", () => {
  test("prints the dashboard model computed from the home's settings, manifests and ledger", async () => {
    const r = await runCompiled(["dashboard", "--json"], where);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const printed = JSON.parse(r.stdout) as DashboardModel;
    const settings = loadSettings(where.home);
    const catalog = loadCatalog(where);
    const layersOf = (run: RunInfo) => runLayers(catalog, settings, run, readRequestFile(run.id, where.home)?.budget);
    const mine = await readDashboard(db, { timeZone: "UTC", settings, layersOf, now: Date.parse(printed.at) });
    expect(stable(printed)).toEqual(stable(mine));
    expect(printed.runs.map((x) => `${x.label}:${x.status}`)).toEqual(["freezer:frozen", "reviewer:running", "cutter:cut off", "crashed:ended", "old:ended"]);
    // A claude run with no agent or bottle budget is governed by settings.yml's; cutter by its --budget.
    expect(printed.runs[1]!.budgets).toMatchObject([{ scope: "global", provider: "claude", limit: 5_000_000, used: 55_000, file: join(where.home, "settings.yml") }]);
    expect(printed.runs[2]!.budgets).toMatchObject([{ scope: "run", provider: "codex", limit: 40_000, used: 50_000, remaining: 0, fraction: 1.25 }]);
    expect(printed.runs[1]!.ageSeconds).toBeGreaterThanOrEqual(750);
  });
});

describe("bottle dashboard --once", () => {
  test("prints one plain frame within COLUMNS and exits", async () => {
    const r = await runCompiled(["dashboard", "--once"], where);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^bottle dashboard · 5 runs, 3 live · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    expect(lines.slice(2, 8).map((l) => l.replace(/\s+/g, " "))).toEqual([
      "LABEL AGENT PROVIDER BACKEND STATE AGE TOKENS LAST RATE BUDGET",
      expect.stringMatching(/^freezer pi pi sandbox frozen 50m 1,000 41m 0\/m ░+ 1% global$/),
      expect.stringMatching(/^reviewer claude claude sandbox running 12m 45,000 2\ds 1\/m ░+ 1% global$/),
      expect.stringMatching(/^cutter codex codex docker cut off 5m 50,000 3m 0\/m █+ 125% run$/),
      expect.stringMatching(/^crashed claude claude sandbox ended 6m 0 - 0\/m ░+ 1% global$/),
      expect.stringMatching(/^old claude claude sandbox ended 20m 2,000 11m 0\/m ░+ 1% global$/),
    ]);
    expect(lines).toContain("HOST TOTALS  tokens today · the global budget over its window");
    // Today's tokens (the seed's usage is minutes old, the ancient run's two days; near midnight, less of it is today).
    expect(lines.some((l) => /^claude {4}[\d,]+ {2}░+ {3}1% {2}55,000 of 5,000,000 tokens used, 4,945,000 left, no window$/.test(l))).toBe(true);
    expect(lines).toContain("RECENT ACTIONS");
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(100);
    expect(r.stdout).not.toContain("\x1b[");
  });

  test("without a terminal and without --once or --json: a usage error, at once", async () => {
    const r = await runCompiled(["dashboard"], where);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("`bottle dashboard` needs a terminal");
    expect(r.stderr).toContain("bottle dashboard --once");
  });
});
