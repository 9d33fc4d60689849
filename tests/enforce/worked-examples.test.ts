/**
 * docs/budgets.md's worked examples, run as written, 20 times each, through real `bottle proxy` processes
 * sharing one ledger and a global budget in settings.yml: L = 370 claude tokens, and every request uses
 * u = 37 (the simulated provider's usage), so the budget fits 10 and ⌊(L − 1)/u⌋ = 9.
 *
 * - off, serially: the crossing request completes and the next is refused: exactly 10 run.
 * - off, one process, 5 in flight: at most 9 + 5 = 14 of 50 run.
 * - off, 4 processes with 2 in flight each: at most 9 + 8 = 17 of 52 run.
 * - estimate (reservations above the usage): charged ≤ L.
 *
 * "In flight" is the clients' own concurrency: a response ends for its client only once its usage is
 * committed, so the proxies never have more requests admitted-but-uncharged than the clients have open.
 * Between repetitions the budget is reset and each run restored, the way `bottle budget reset` and
 * `bottle budget restore` do it.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sendControl } from "../../src/enforce/control.ts";
import { sqlCommandSender, sqlEnforceStore } from "../../src/enforce/sql-store.ts";
import { openLedger, type LedgerDb } from "../../src/ledger/index.ts";
import { sendMessage, startBottleProxy, type BottleProxy } from "../support/bottle-proxy.ts";

const L = 370;
const U = 37;
const REPS = 20;
const procs: BottleProxy[] = [];
afterAll(async () => {
  for (const p of procs) await p.stop("SIGKILL");
});

async function setUp(n: number, preflight: "off" | "estimate"): Promise<{ db: LedgerDb; proxies: BottleProxy[] }> {
  const home = mkdtempSync(join(process.env.TMPDIR!, "examples-"));
  writeFileSync(join(home, "settings.yml"), `budget:\n  claude: ${L}\npreflight: ${preflight}\n`);
  const proxies: BottleProxy[] = [];
  for (let i = 0; i < n; i++) proxies.push(await startBottleProxy(home));
  procs.push(...proxies);
  return { db: await openLedger({ path: join(home, "bottle.db") }), proxies };
}

/** A fresh count for the next repetition: reset the global budget, and lift the cutoff each run applied. */
async function nextRepetition(db: LedgerDb, proxies: BottleProxy[]): Promise<number> {
  const at = Date.now();
  await sqlEnforceStore(db).transaction((tx) => tx.addReset({ scope: "global", key: "" }, undefined, at));
  await Promise.all(proxies.map((p) => sendControl(sqlCommandSender(db), p.runId, "restore", { timeoutMs: 20_000 })));
  return at;
}

/** `count` requests through `p`, `inflight` at a time; how many ran (200 with a whole stream). */
async function pool(p: BottleProxy, count: number, inflight: number): Promise<number> {
  let next = 0;
  let ran = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const r = await sendMessage(p);
      if (r.status === 200) {
        expect(r.complete).toBe(true);
        ran++;
      } else expect(r.status).toBe(402); // the budget refusal (or the cutoff that follows it), never anything else
    }
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  return ran;
}

async function chargedSince(db: LedgerDb, since: number): Promise<number> {
  const r = await db.selectFrom("usage_events").select((eb) => eb.fn.sum<number>("total_tokens").as("n")).where("created_at", ">=", since).executeTakeFirst();
  return Number(r?.n ?? 0);
}

describe("docs/budgets.md worked examples, 20 times each", () => {
  test("off, serially: exactly 10 run, the crossing one completes and the next is refused", async () => {
    const { db, proxies } = await setUp(1, "off");
    const ran: number[] = [];
    for (let i = 0; i < REPS; i++) {
      const since = await nextRepetition(db, proxies);
      ran.push(await pool(proxies[0]!, 12, 1));
      expect(await chargedSince(db, since)).toBe(10 * U);
    }
    expect(ran).toEqual(Array(REPS).fill(10));
    await db.destroy();
  }, 300_000);

  test("off, one process, 5 in flight: at most 14 of 50 run", async () => {
    const { db, proxies } = await setUp(1, "off");
    const ran: number[] = [];
    for (let i = 0; i < REPS; i++) {
      const since = await nextRepetition(db, proxies);
      const n = await pool(proxies[0]!, 50, 5);
      ran.push(n);
      expect(await chargedSince(db, since)).toBe(n * U);
    }
    expect(Math.max(...ran)).toBeLessThanOrEqual(9 + 5);
    expect(Math.min(...ran)).toBeGreaterThanOrEqual(10);
    await db.destroy();
  }, 300_000);

  test("off, 4 processes with 2 in flight each: at most 17 of 52 run", async () => {
    const { db, proxies } = await setUp(4, "off");
    const ran: number[] = [];
    for (let i = 0; i < REPS; i++) {
      const since = await nextRepetition(db, proxies);
      const n = (await Promise.all(proxies.map((p) => pool(p, 13, 2)))).reduce((a, b) => a + b, 0);
      ran.push(n);
      expect(await chargedSince(db, since)).toBe(n * U);
      expect(n * U).toBeLessThanOrEqual(L - 1 + 8 * U);
    }
    expect(Math.max(...ran)).toBeLessThanOrEqual(9 + 8);
    expect(Math.min(...ran)).toBeGreaterThanOrEqual(10);
    await db.destroy();
  }, 300_000);

  test("estimate, 4 processes with 2 in flight each: charged <= L", async () => {
    const { db, proxies } = await setUp(4, "estimate");
    for (let i = 0; i < REPS; i++) {
      const since = await nextRepetition(db, proxies);
      const n = (await Promise.all(proxies.map((p) => pool(p, 13, 2)))).reduce((a, b) => a + b, 0);
      expect(n).toBeGreaterThan(0);
      expect(await chargedSince(db, since)).toBeLessThanOrEqual(L);
    }
    const open = await db.selectFrom("reservations").select("id").where("released_at", "is", null).execute();
    expect(open).toEqual([]);
    await db.destroy();
  }, 300_000);
});
