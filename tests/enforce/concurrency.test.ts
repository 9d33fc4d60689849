/**
 * 50 parallel requests against a budget that fits 10 (limit 1000, each request uses 100), in one process and
 * across 4 processes sharing one SQLite ledger. The bounds asserted are the ones documented in
 * src/enforce/admission.ts and the README:
 *   estimate/provider (reservation >= actual usage): charged <= limit, so at most 10 requests run;
 *   off (post-hoc): charged <= (limit - 1) + C * usage for C requests in flight, and never fewer than 10 run.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { admit, settle, type RunBudgetPlan } from "../../src/enforce/admission.ts";
import { sqlEnforceStore } from "../../src/enforce/sql-store.ts";
import { addRun, charge, ledgerFile, openTestLedger } from "../support/enforce-db.ts";

const LIMIT = 1000;
const USAGE = 100;
const N = 50;

async function totalCharged(file: string): Promise<number> {
  const db = openTestLedger(file);
  const r = await db.selectFrom("usage_events").select((eb) => eb.fn.sum<number>("total_tokens").as("n")).executeTakeFirst();
  const open = await db.selectFrom("reservations").select((eb) => eb.fn.countAll<number>().as("n")).where("released_at", "is", null).executeTakeFirst();
  await db.destroy();
  expect(Number(open?.n)).toBe(0); // every reservation was settled
  return Number(r?.n ?? 0);
}

async function inProcess(mode: "off" | "estimate"): Promise<{ admitted: number; charged: number }> {
  const file = ledgerFile();
  const db = openTestLedger(file);
  const store = sqlEnforceStore(db);
  await addRun(db, { id: "solo", agent: "busy" });
  const plan: RunBudgetPlan = { runId: "solo", timeZone: "UTC", preflight: mode, budgets: { claude: { provider: "claude", tokens: LIMIT, scope: "agent", name: "busy" } } };
  let admitted = 0;
  await Promise.all(
    Array.from({ length: N }, async () => {
      const d = await admit(store, plan, { provider: "claude", ...(mode === "estimate" ? { reserve: USAGE } : {}) });
      if (!d.allow) return;
      admitted++;
      await Bun.sleep(Math.random() * 5);
      await charge(db, "solo", "claude", USAGE);
      await settle(store, plan, { provider: "claude", ...(d.reservationId ? { reservationId: d.reservationId } : {}), charged: USAGE });
    }),
  );
  await db.destroy();
  return { admitted, charged: await totalCharged(file) };
}

let procs: Subprocess[] = [];
afterEach(() => {
  for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
  procs = [];
});

async function acrossProcesses(mode: "off" | "estimate"): Promise<{ admitted: number; charged: number }> {
  const file = ledgerFile();
  openTestLedger(file).destroy(); // create the schema once, before the workers race
  const counts = [13, 13, 12, 12];
  procs = counts.map((c, i) =>
    Bun.spawn(["bun", "tests/support/admit-worker.ts", file, `run-${i}`, "busy", String(c), String(LIMIT), String(USAGE), mode, String(USAGE)], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
    }),
  );
  const readers = procs.map((p) => (p.stdout as ReadableStream<Uint8Array>).getReader());
  type Reader = (typeof readers)[number];
  const readLine = async (r: Reader, buf: { s: string }) => {
    while (!buf.s.includes("\n")) {
      const { value, done } = await r.read();
      if (done) throw new Error("worker ended early");
      buf.s += new TextDecoder().decode(value);
    }
    const i = buf.s.indexOf("\n");
    const line = buf.s.slice(0, i);
    buf.s = buf.s.slice(i + 1);
    return line;
  };
  const bufs = procs.map(() => ({ s: "" }));
  expect(await Promise.all(readers.map((r, i) => readLine(r, bufs[i]!)))).toEqual(["ready", "ready", "ready", "ready"]);
  for (const p of procs) {
    const stdin = p.stdin as import("bun").FileSink;
    stdin.write("go\n");
    stdin.end();
  }
  const results = await Promise.all(readers.map(async (r, i) => JSON.parse(await readLine(r, bufs[i]!)) as { admitted: number }));
  expect(await Promise.all(procs.map((p) => p.exited))).toEqual([0, 0, 0, 0]);
  return { admitted: results.reduce((a, r) => a + r.admitted, 0), charged: await totalCharged(file) };
}

describe("50 parallel requests, budget fits 10", () => {
  test("estimate, one process: exactly 10 run and the budget is never exceeded", async () => {
    const r = await inProcess("estimate");
    expect(r.admitted).toBe(10);
    expect(r.charged).toBeLessThanOrEqual(LIMIT);
  });

  test("estimate, 4 processes: at most 10 run in total, charged <= limit", async () => {
    const r = await acrossProcesses("estimate");
    expect(r.admitted).toBe(10);
    expect(r.charged).toBeLessThanOrEqual(LIMIT);
  });

  test("off, one process: within the post-hoc bound (limit - 1 + 50 x usage), never fewer than 10", async () => {
    const r = await inProcess("off");
    expect(r.admitted).toBeGreaterThanOrEqual(10);
    expect(r.charged).toBeLessThanOrEqual(LIMIT - 1 + N * USAGE);
    expect(r.charged).toBe(r.admitted * USAGE);
  });

  test("off, 4 processes: within the same bound", async () => {
    const r = await acrossProcesses("off");
    expect(r.admitted).toBeGreaterThanOrEqual(10);
    expect(r.charged).toBeLessThanOrEqual(LIMIT - 1 + N * USAGE);
  });

  test("off, serial: the crossing request completes and the next one is refused", async () => {
    const file = ledgerFile();
    const db = openTestLedger(file);
    const store = sqlEnforceStore(db);
    await addRun(db, { id: "serial", agent: "slow" });
    const plan: RunBudgetPlan = { runId: "serial", timeZone: "UTC", preflight: "off", budgets: { claude: { provider: "claude", tokens: LIMIT, scope: "run" } } };
    let admitted = 0;
    for (let i = 0; i < N; i++) {
      const d = await admit(store, plan, { provider: "claude" });
      if (!d.allow) break;
      admitted++;
      await charge(db, "serial", "claude", 150);
      await settle(store, plan, { provider: "claude", charged: 150 });
    }
    // 0, 150, …, 900 are under 1000: 7 requests run, the 7th crosses (1050), the 8th is refused.
    expect(admitted).toBe(7);
    await db.destroy();
  });
});
