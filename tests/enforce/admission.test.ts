/**
 * Admission against a real SQLite ledger: each scope counts the runs DESIGN §6 says, windows and reset
 * markers bound the count, pre-flight reservations are held and released, and a cut-off run is refused.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Kysely } from "kysely";
import type { EffectiveBudget } from "../../src/budget/precedence.ts";
import { admit, settle, standing, type RunBudgetPlan } from "../../src/enforce/admission.ts";
import { applyCommand } from "../../src/enforce/cutoff.ts";
import { sqlEnforceStore, type EnforceTables } from "../../src/enforce/sql-store.ts";
import type { EnforceStore } from "../../src/enforce/store.ts";
import { addRun, charge, ledgerFile, openTestLedger } from "../support/enforce-db.ts";

let db: Kysely<EnforceTables>;
let store: EnforceStore;
beforeAll(async () => {
  db = openTestLedger(ledgerFile());
  store = sqlEnforceStore(db);
  await addRun(db, { id: "r1", agent: "coder", bottles: ["web"], chain: ["base", "web"] });
  await addRun(db, { id: "r2", agent: "coder", bottles: ["api"], chain: ["base", "api"] });
  await addRun(db, { id: "r3", agent: "reviewer", bottles: ["web"], chain: ["web"] });
  await addRun(db, { id: "r4", agent: "reviewer", bottles: ["solo"], chain: ["solo"] });
});
afterAll(() => db.destroy());

const NOW = Date.parse("2026-11-18T12:00:00Z"); // a Wednesday
const budget = (b: Partial<EffectiveBudget>): EffectiveBudget => ({ provider: "claude", tokens: 1000, scope: "global", ...b });
const usedBy = (b: EffectiveBudget, runId: string, now = NOW, tz = "UTC") => store.transaction(async (tx) => (await standing(tx, b, runId, now, tz)).used);

describe("each scope counts exactly its runs", () => {
  beforeAll(async () => {
    await charge(db, "r1", "claude", 1, NOW - 1000);
    await charge(db, "r2", "claude", 10, NOW - 1000);
    await charge(db, "r3", "claude", 100, NOW - 1000);
    await charge(db, "r4", "claude", 1000, NOW - 1000);
    await charge(db, "r1", "codex", 5000, NOW - 1000); // another provider never counts
  });
  test("run: the run itself", async () => expect(await usedBy(budget({ scope: "run" }), "r1")).toBe(1));
  test("agent: every run of that agent", async () => expect(await usedBy(budget({ scope: "agent", name: "coder" }), "r1")).toBe(11));
  test("bottle: every run that composed it", async () => expect(await usedBy(budget({ scope: "bottle", name: "web" }), "r1")).toBe(101));
  test("parent: every run whose chain includes it", async () => expect(await usedBy(budget({ scope: "parent", name: "base" }), "r1")).toBe(11));
  test("global: every run", async () => expect(await usedBy(budget({ scope: "global" }), "r1")).toBe(1111));
});

describe("windows and reset markers", () => {
  const day = budget({ scope: "run", per: "day" });
  test("usage one second before midnight UTC is yesterday's; one second after is today's", async () => {
    await addRun(db, { id: "w1", agent: "x" });
    const midnight = Date.parse("2026-11-19T00:00:00Z");
    await charge(db, "w1", "claude", 7, midnight - 1000);
    await charge(db, "w1", "claude", 30, midnight + 1000);
    expect(await usedBy(day, "w1", midnight - 1)).toBe(7);
    expect(await usedBy(day, "w1", midnight + 2000)).toBe(30);
  });

  test("in a configured zone the day turns at local midnight (Berlin: 23:00 UTC)", async () => {
    await addRun(db, { id: "w2", agent: "x" });
    const localMidnight = Date.parse("2026-11-18T23:00:00Z");
    await charge(db, "w2", "claude", 7, localMidnight - 1000);
    await charge(db, "w2", "claude", 30, localMidnight + 1000);
    expect(await usedBy(day, "w2", localMidnight + 2000, "Europe/Berlin")).toBe(30);
    expect(await usedBy(day, "w2", localMidnight + 2000, "UTC")).toBe(37);
  });

  test("month rollover", async () => {
    await addRun(db, { id: "w3", agent: "x" });
    await charge(db, "w3", "claude", 7, Date.parse("2026-11-30T23:59:59Z"));
    await charge(db, "w3", "claude", 30, Date.parse("2026-12-01T00:00:01Z"));
    const month = budget({ scope: "run", per: "month" });
    expect(await usedBy(month, "w3", Date.parse("2026-11-30T23:59:59.500Z"))).toBe(7);
    expect(await usedBy(month, "w3", Date.parse("2026-12-01T00:00:02Z"))).toBe(30);
  });

  test("a reset marker in the middle of a window: only usage after it counts; history stays", async () => {
    await addRun(db, { id: "w4", agent: "resettable" });
    const b = budget({ scope: "agent", name: "resettable", per: "month" });
    await charge(db, "w4", "claude", 500, NOW - 3600_000);
    await db.insertInto("budget_resets").values({ scope: "agent", scope_key: "resettable", provider: null, created_at: NOW - 1800_000 }).execute();
    await charge(db, "w4", "claude", 40, NOW - 60_000);
    expect(await usedBy(b, "w4")).toBe(40);
    // Another scope is untouched by that marker, and the events are all still there.
    expect(await usedBy(budget({ scope: "run", per: "month" }), "w4")).toBe(540);
  });

  test("changing a window while usage exists recounts the same history", async () => {
    await addRun(db, { id: "w5", agent: "x" });
    await charge(db, "w5", "claude", 1, Date.parse("2026-10-20T10:00:00Z")); // last month
    await charge(db, "w5", "claude", 10, Date.parse("2026-11-16T10:00:00Z")); // Monday this week
    await charge(db, "w5", "claude", 100, Date.parse("2026-11-18T10:00:00Z")); // today
    const b = budget({ scope: "run" });
    expect(await usedBy({ ...b, per: "day" }, "w5")).toBe(100);
    expect(await usedBy({ ...b, per: "week" }, "w5")).toBe(110);
    expect(await usedBy({ ...b, per: "month" }, "w5")).toBe(110);
    expect(await usedBy(b, "w5")).toBe(111);
  });
});

describe("admission decisions", () => {
  const plan = (runId: string, b: EffectiveBudget, preflight: RunBudgetPlan["preflight"] = "off"): RunBudgetPlan => ({
    runId,
    budgets: { claude: b },
    timeZone: "UTC",
    preflight,
  });

  test("off: the request that crosses completes and the next is refused with the facts", async () => {
    await addRun(db, { id: "a1", agent: "x" });
    const p = plan("a1", budget({ scope: "run", tokens: 100 }));
    expect((await admit(store, p, { provider: "claude", now: NOW })).allow).toBe(true);
    await charge(db, "a1", "claude", 150, NOW);
    const s = await settle(store, p, { provider: "claude", charged: 150, now: NOW });
    expect(s.crossed?.used).toBe(150);
    const d = await admit(store, p, { provider: "claude", now: NOW });
    expect(d).toMatchObject({ allow: false, kind: "budget", facts: { used: 150, limit: 100, scope: "run budget (--budget)" } });
    // A provider without a budget is not limited.
    expect((await admit(store, p, { provider: "codex", now: NOW })).allow).toBe(true);
  });

  test("estimate: a reservation that does not fit is refused; settling releases it", async () => {
    await addRun(db, { id: "a2", agent: "x" });
    const p = plan("a2", budget({ scope: "run", tokens: 1000 }), "estimate");
    const first = await admit(store, p, { provider: "claude", reserve: 600, now: NOW });
    expect(first).toMatchObject({ allow: true, reserved: 600 });
    expect(await admit(store, p, { provider: "claude", reserve: 600, now: NOW })).toMatchObject({ allow: false, kind: "budget", facts: { used: 600, requested: 600 } });
    await charge(db, "a2", "claude", 200, NOW);
    await settle(store, p, { provider: "claude", reservationId: (first as { reservationId: string }).reservationId, charged: 200, now: NOW });
    expect((await admit(store, p, { provider: "claude", reserve: 600, now: NOW })).allow).toBe(true);
  });

  test("a cut-off run is refused whatever its budget; restore lifts it", async () => {
    await addRun(db, { id: "a3", agent: "x" });
    const p = plan("a3", budget({ scope: "run", tokens: 1_000_000 }));
    await applyCommand(store, undefined, "a3", "cutoff");
    expect(await admit(store, p, { provider: "claude" })).toMatchObject({ allow: false, kind: "cutoff" });
    expect(await admit(store, p, {})).toMatchObject({ allow: false, kind: "cutoff" });
    await applyCommand(store, undefined, "a3", "restore");
    expect((await admit(store, p, { provider: "claude" })).allow).toBe(true);
    const actions = await db.selectFrom("enforcement_actions").select(["kind", "trigger"]).where("run_id", "=", "a3").execute();
    expect(actions).toEqual([{ kind: "cutoff", trigger: "user" }, { kind: "restore", trigger: "user" }]);
  });
});
