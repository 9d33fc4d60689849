/**
 * Running totals on a real ledger file: after charges through both write paths (a repository transaction
 * and the queued writer), window rollovers, charges dated in past windows, resets (through the command's
 * path and as a bare marker) and a crash-recovery charge, every budget reads the same number as the sum of
 * its usage_events, and `bottle ledger check` proves it (and catches and repairs a total that drifted).
 */
import { describe, expect, test } from "bun:test";
import type { EffectiveBudget } from "../../src/budget/precedence.ts";
import { standing } from "../../src/enforce/admission.ts";
import { sqlEnforceStore } from "../../src/enforce/sql-store.ts";
import { checkTotals, LedgerWriter, openLedger, recordUsage, registerRun, sumUsage, type LedgerDb } from "../../src/ledger/index.ts";
import { selectionFor } from "../../src/budget/counting.ts";
import { freshHome, runCli, runCliJson } from "../support/cli.ts";
import { ledgerFile } from "../support/enforce-db.ts";
import { join } from "node:path";

const DAY = 86_400_000;
const T0 = Date.parse("2026-11-18T12:00:00Z");

const budgets: EffectiveBudget[] = [
  { provider: "claude", tokens: 1e9, scope: "global" },
  { provider: "claude", tokens: 1e9, scope: "global", per: "day" },
  { provider: "claude", tokens: 1e9, scope: "global", per: "month" },
  { provider: "claude", tokens: 1e9, scope: "agent", name: "coder", per: "week" },
  { provider: "claude", tokens: 1e9, scope: "bottle", name: "web", per: "day" },
  { provider: "claude", tokens: 1e9, scope: "parent", name: "base" },
  { provider: "codex", tokens: 1e9, scope: "run", name: "r2", per: "day" },
];

async function seed(db: LedgerDb): Promise<void> {
  await registerRun(db, { id: "r1", agent: "coder", bottles: ["web"], chain: ["base", "web"], pid: null });
  await registerRun(db, { id: "r2", agent: "coder", bottles: ["api"], chain: ["base", "api"], pid: null });
  await registerRun(db, { id: "r3", agent: "reviewer", bottles: ["web"], chain: ["web"], pid: null });
}

/** Each budget's standing as admission reads it (running total) next to the plain sum of its usage. */
async function compare(db: LedgerDb, now: number, tz = "UTC"): Promise<Array<[number, number]>> {
  const store = sqlEnforceStore(db);
  const out: Array<[number, number]> = [];
  for (const b of budgets) {
    const runId = b.scope === "run" ? b.name! : "r1";
    const viaTotals = await store.transaction(async (tx) => (await standing(tx, b, runId, now, tz)).used);
    const reset = await store.transaction((tx) => tx.lastReset({ scope: b.scope, key: b.scope === "run" ? runId : b.scope === "global" ? "" : b.name! }, b.provider));
    out.push([viaTotals, await sumUsage(db, selectionFor(b, runId, now, tz, reset))]);
  }
  return out;
}

const agree = (pairs: Array<[number, number]>) => pairs.every(([a, b]) => a === b);

describe("running totals equal the sums of usage", () => {
  test("through charges on both write paths, rollovers, past-window charges, resets and a drifted row", async () => {
    const db = await openLedger({ path: ledgerFile() });
    await seed(db);
    const writer = new LedgerWriter(db);
    // Totals exist (and are then kept current) once admission has read them.
    expect(agree(await compare(db, T0))).toBe(true);
    let seq = 0;
    const charge = async (runId: string, provider: string, tokens: number, at: number) => {
      if (seq++ % 2 === 0) await recordUsage(db, [{ runId, provider, totalTokens: tokens, at }]);
      else await writer.usage({ runId, provider, totalTokens: tokens, at });
    };
    for (let i = 0; i < 60; i++) {
      const run = ["r1", "r2", "r3"][i % 3]!;
      await charge(run, i % 5 === 0 ? "codex" : "claude", 10 + i, T0 + i * 60_000);
    }
    const now = T0 + 3_600_000;
    const pairs = await compare(db, now);
    expect(agree(pairs)).toBe(true);
    expect(pairs[0]![0]).toBeGreaterThan(0);

    // Next day: the day windows start from zero, longer windows keep counting.
    const tomorrow = T0 + DAY;
    expect(agree(await compare(db, tomorrow))).toBe(true);
    await charge("r1", "claude", 500, tomorrow);
    // A charge dated in yesterday's window (a long stream that ended late) lands in yesterday's rows only.
    await charge("r1", "claude", 7, T0 + 2 * 3_600_000);
    const afterRollover = await compare(db, tomorrow + 1000);
    expect(agree(afterRollover)).toBe(true);
    expect(afterRollover[1]).toEqual([500, 500]); // global per day
    expect(agree(await compare(db, now + 3_600_000))).toBe(true); // yesterday, seen from yesterday

    // A reset through the command's path, then one written as a bare marker: both recount from the marker.
    const store = sqlEnforceStore(db);
    await store.transaction((tx) => tx.addReset({ scope: "agent", key: "coder" }, undefined, tomorrow + 2000));
    await charge("r2", "claude", 40, tomorrow + 3000);
    await db.insertInto("budget_resets").values({ scope: "global", scope_key: "", provider: "claude", created_at: tomorrow + 4000 }).execute();
    await charge("r3", "claude", 3, tomorrow + 5000);
    const afterResets = await compare(db, tomorrow + 6000);
    expect(agree(afterResets)).toBe(true);
    expect(afterResets[3]).toEqual([40, 40]); // agent coder per week: only what came after its reset
    expect(afterResets[0]).toEqual([3, 3]); // global: only what came after its reset

    // A crash-recovery charge goes through the same totals.
    await store.transaction(async (tx) => {
      await tx.addReservation({ id: "res-1", runId: "r1", provider: "claude", tokens: 900, createdAt: tomorrow + 7000 });
    });
    await store.transaction((tx) => tx.chargeRunReservations("r1", tomorrow + 8000));
    const afterCrash = await compare(db, tomorrow + 9000);
    expect(agree(afterCrash)).toBe(true);
    expect(afterCrash[0]).toEqual([903, 903]);

    await writer.close();
    const check = await checkTotals(db);
    expect(check.mismatches).toEqual([]);
    expect(check.rows).toBeGreaterThanOrEqual(budgets.length);

    // A total that drifted from its usage is found, named, and repaired from usage_events.
    await db.updateTable("budget_totals").set({ tokens: 12345 }).where("scope", "=", "parent").execute();
    const drifted = await checkTotals(db);
    expect(drifted.mismatches).toEqual([expect.objectContaining({ scope: "parent", key: "base", provider: "claude", stored: 12345 })]);
    await checkTotals(db, { repair: true });
    expect((await checkTotals(db)).mismatches).toEqual([]);
    await db.destroy();
  });
});

describe("bottle ledger check", () => {
  test("passes on a sound ledger, fails naming a drifted total, and --repair fixes it", async () => {
    const home = freshHome();
    const db = await openLedger({ path: join(home, "bottle.db") });
    await seed(db);
    await recordUsage(db, [{ runId: "r1", provider: "claude", totalTokens: 100, at: Date.now() - 1000 }]);
    await compare(db, Date.now());
    await recordUsage(db, [{ runId: "r3", provider: "claude", totalTokens: 20, at: Date.now() }]);
    await db.updateTable("budget_totals").set({ tokens: 1 }).where("scope", "=", "bottle").execute();
    await db.destroy();

    const bad = await runCli(["ledger", "check"], { home });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("bottle web claude");
    expect(bad.stderr).toContain("total 1, usage sums to 120");
    expect(bad.stderr).toContain("bottle ledger check --repair");

    const fixed = await runCliJson<{ integrity: string; mismatches: unknown[]; repaired: boolean }>(["ledger", "check", "--repair"], { home });
    expect(fixed).toMatchObject({ integrity: "ok", repaired: true });
    expect(fixed.mismatches).toHaveLength(1);
    const ok = await runCliJson<{ integrity: string; totals: number; mismatches: unknown[] }>(["ledger", "check"], { home });
    expect(ok).toMatchObject({ integrity: "ok", mismatches: [] });
    expect(ok.totals).toBeGreaterThanOrEqual(budgets.length);
  });
});
