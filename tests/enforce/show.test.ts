/**
 * The data behind `bottle budget show` against a real SQLite ledger: every defined budget (a bottle that
 * another bottle extends shows again as a parent, counting more runs), windows written in the configured
 * zone, a reset marker mid-window that restarts the count while every usage row stays, and live runs with
 * the budget that governs each.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Kysely } from "kysely";
import { definedBudgets, showDefined, showLayers, showRuns } from "../../src/enforce/show.ts";
import { sqlEnforceStore, type EnforceTables } from "../../src/enforce/sql-store.ts";
import type { EnforceStore } from "../../src/enforce/store.ts";
import { addRun, charge, ledgerFile, openTestLedger } from "../support/enforce-db.ts";

const NOW = Date.parse("2026-11-18T12:00:00Z");
const settings = { file: "/h/settings.yml", timezone: "Europe/Berlin", budget: { claude: { tokens: 10_000, per: "day" as const } } };
const agents = [{ name: "coder", file: "/h/agents/coder.md", budget: { claude: { tokens: 500 } } }];
const bottles = [
  { name: "base", file: "/h/bottles/base.md", extends: [], budget: { claude: { tokens: 2000, per: "week" as const } } },
  { name: "web", file: "/h/bottles/web.md", extends: ["base"] },
];

let db: Kysely<EnforceTables>;
let store: EnforceStore;
beforeAll(async () => {
  db = openTestLedger(ledgerFile());
  store = sqlEnforceStore(db);
  await addRun(db, { id: "r-base", agent: "coder", bottles: ["base"], chain: ["base"] });
  await addRun(db, { id: "r-web", agent: "other", bottles: ["web"], chain: ["base", "web"] });
  await charge(db, "r-base", "claude", 30, NOW - 3600_000);
  await charge(db, "r-web", "claude", 200, NOW - 3600_000);
  await charge(db, "r-web", "claude", 4000, Date.parse("2026-11-10T12:00:00Z")); // last week
});
afterAll(() => db.destroy());

const pick = (r: { scope: string; name?: string; used: number; remaining: number }) => ({ scope: r.scope, name: r.name, used: r.used, remaining: r.remaining });

describe("defined budgets", () => {
  test("a bottle another bottle extends is listed as bottle and as parent", () => {
    expect(definedBudgets(settings, agents, bottles).map((b) => `${b.scope} ${b.name ?? ""}`.trim())).toEqual(["agent coder", "bottle base", "parent base", "global"]);
  });

  test("each row counts its scope inside its window; bounds are in the configured zone", async () => {
    const rows = await showDefined(store, settings, agents, bottles, NOW);
    expect(rows.map(pick)).toEqual([
      { scope: "agent", name: "coder", used: 30, remaining: 470 },
      { scope: "bottle", name: "base", used: 30, remaining: 1970 }, // only r-base named base
      { scope: "parent", name: "base", used: 230, remaining: 1770 }, // r-web's chain includes it
      { scope: "global", name: undefined, used: 230, remaining: 9770 },
    ]);
    const global = rows[3]!;
    expect(global).toMatchObject({ window: "per day (Europe/Berlin)", timeZone: "Europe/Berlin", windowStart: "2026-11-18T00:00:00+01:00", windowEnd: "2026-11-19T00:00:00+01:00", file: "/h/settings.yml" });
    expect(rows[1]).toMatchObject({ windowStart: "2026-11-16T00:00:00+01:00", windowEnd: "2026-11-23T00:00:00+01:00" });
    expect(rows[0]!.windowStart).toBeUndefined();
    expect(rows[0]!.resetAt).toBeUndefined();
  });
});

describe("a reset marker mid-window", () => {
  test("the count restarts from zero, later usage counts, and no usage row is deleted", async () => {
    const before = await db.selectFrom("usage_events").selectAll().execute();
    const resetAt = NOW - 1800_000;
    await store.transaction((tx) => tx.addReset({ scope: "agent", key: "coder" }, undefined, resetAt));
    const [agentRow] = await showDefined(store, settings, agents, [], NOW);
    expect(agentRow).toMatchObject({ scope: "agent", used: 0, remaining: 500, resetAt: "2026-11-18T12:30:00+01:00" });
    await charge(db, "r-base", "claude", 7, NOW - 60_000);
    expect((await showDefined(store, settings, agents, [], NOW))[0]!.used).toBe(7);
    // The global budget was not reset: it still counts everything in its window.
    expect((await showDefined(store, settings, [], [], NOW))[0]!.used).toBe(237);
    const after = await db.selectFrom("usage_events").selectAll().execute();
    expect(after.length).toBe(before.length + 1);
    expect(after.slice(0, before.length)).toEqual(before);
  });
});

describe("layers and live runs", () => {
  const layers = [
    { scope: "run" as const, budget: { claude: { tokens: 100 }, codex: { tokens: 100 } } },
    { scope: "agent" as const, name: "coder", file: "/h/agents/coder.md", budget: { claude: { tokens: 500 } } },
    { scope: "global" as const, file: "/h/settings.yml", budget: settings.budget },
  ];

  test("every layer of a run is listed and the most specific governs", async () => {
    const rows = await showLayers(store, layers, "UTC", "r-base", NOW);
    expect(rows.map((r) => [r.provider, r.scope, r.governs])).toEqual([
      ["claude", "run", true],
      ["claude", "agent", false],
      ["claude", "global", false],
      ["codex", "run", true],
    ]);
  });

  test("a live run shows only the budget that governs it, counted for that run", async () => {
    const runs = await showRuns(store, [{ runId: "r-web", agent: "other", bottles: ["web"], layers }], "UTC", NOW);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.budgets.map((r) => [r.provider, r.scope, r.used, r.limit])).toEqual([
      ["claude", "run", 4200, 100],
      ["codex", "run", 0, 100],
    ]);
  });
});
