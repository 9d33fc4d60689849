/**
 * Admission reads every budget's standing in one statement, outside any transaction, and on SQLite answers
 * from memory while the ledger has not changed (PRAGMA data_version). What that memory must never do is
 * miss a commit: another process's charge or reset, this process's usage writer (its own connection), or a
 * reservation written through the store's own transaction. Each case here commits one of those and checks
 * that the very next admission decides on it, on a real ledger (an SQLite file, or Postgres with
 * BOTTLE_TEST_LEDGER=postgres, where every read runs the statement).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { EffectiveBudget } from "../../src/budget/precedence.ts";
import { admit, settle, type RunBudgetPlan } from "../../src/enforce/admission.ts";
import { sqlEnforceStore } from "../../src/enforce/sql-store.ts";
import type { EnforceStore, StandingRead } from "../../src/enforce/store.ts";
import { LedgerWriter, type LedgerDb } from "../../src/ledger/index.ts";
import { onPostgres } from "../support/postgres.ts";
import { addRun, ledgerFile, openTestLedger } from "../support/enforce-db.ts";

const budget: EffectiveBudget = { provider: "claude", tokens: 100, scope: "global", per: "month" };
const plan: RunBudgetPlan = { runId: "r1", budgets: { claude: budget }, timeZone: "UTC", preflight: "off" };

let file: string;
let db: ReturnType<typeof openTestLedger>;
let store: EnforceStore;

beforeAll(async () => {
  file = ledgerFile();
  db = openTestLedger(file);
  await addRun(db, { id: "r1", agent: "coder", bottles: ["web"] });
  store = sqlEnforceStore(db);
});
afterAll(async () => {
  await db.destroy();
});

/** Another process commits to the ledger and exits. */
async function elsewhere(...args: string[]): Promise<void> {
  const p = Bun.spawn(["bun", join(import.meta.dir, "../support/ledger-charge.ts"), file, ...args], { stdout: "inherit", stderr: "inherit" });
  expect(await p.exited).toBe(0);
}

const off = () => admit(store, plan, { provider: "claude" });
const used = async () => {
  const d = await admit(store, { ...plan, budgets: { claude: { ...budget, tokens: 1 } } }, { provider: "claude" });
  return d.allow ? 0 : (d as { facts: { used: number } }).facts.used;
};

const month = new Date();
const start = Date.UTC(month.getUTCFullYear(), month.getUTCMonth(), 1);
const end = Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1);
const reads: StandingRead[] = [{ scope: "global", key: "", provider: "claude", windowStart: start, windowEnd: end }];
/** The facts the fast path decides on (no transaction behind them). */
const facts = async () => (await store.standings!(reads))[0]!;

describe("admission's one-statement reads see every commit", () => {
  test("unchanged ledger: the same reads are answered from memory (SQLite), with the same facts", async () => {
    expect((await off()).allow).toBe(true);
    const a = await store.standings!(reads);
    const b = await store.standings!(reads);
    expect(b).toEqual(a);
    expect(a[0]!.total).toEqual({ since: start, tokens: 0 });
    if (!onPostgres()) expect(b).toBe(a);
  });

  test("another process's charge refuses the next admission (post-hoc: used >= limit)", async () => {
    expect((await off()).allow).toBe(true);
    expect((await facts()).total?.tokens).toBe(0);
    await elsewhere("charge", "r1", "claude", "100");
    expect((await facts()).total?.tokens).toBe(100);
    const d = await off();
    expect(d.allow).toBe(false);
    expect(d).toMatchObject({ kind: "budget", facts: { used: 100, limit: 100 } });
    // The crossing check reads the same and reports it.
    expect((await settle(store, plan, { provider: "claude", charged: 0 })).crossed?.used).toBe(100);
  });

  test("another process's reset: the next admission counts from the reset (the total is rebuilt)", async () => {
    expect(await used()).toBe(100);
    await elsewhere("reset", "global", "", "claude");
    expect((await facts()).resetAt).toBeNumber();
    expect((await off()).allow).toBe(true);
    expect(await used()).toBe(0);
  });

  test("this process's usage writer (its own connection) and a reservation through the store's transaction", async () => {
    const writer = new LedgerWriter(db as unknown as LedgerDb);
    try {
      expect(await used()).toBe(0);
      const before = (await facts()).total!.tokens;
      await writer.usage({ runId: "r1", provider: "claude", totalTokens: 40, at: Date.now() });
      expect((await facts()).total!.tokens).toBe(before + 40);
      expect(await used()).toBe(40);
      const r = await admit(store, { ...plan, preflight: "estimate" }, { provider: "claude", reserve: 50 });
      expect(r).toMatchObject({ allow: true, reserved: 50 });
      expect((await facts()).held).toBe(50);
      // used 40 + held 50 of 100: a reservation of 20 no longer fits, and pre-flight off still admits.
      expect(await admit(store, { ...plan, preflight: "estimate" }, { provider: "claude", reserve: 20 })).toMatchObject({ allow: false, facts: { used: 90 } });
      expect(await used()).toBe(90);
      await writer.usage({ runId: "r1", provider: "claude", totalTokens: 10, at: Date.now() }, (r as { reservationId: string }).reservationId);
      expect(await used()).toBe(50);
    } finally {
      await writer.close();
    }
  });
});
