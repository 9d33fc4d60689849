/**
 * 50 requests against a budget that fits 10 (limit L = 1000, each request uses u = 100), in one process and
 * across 4 processes sharing one SQLite ledger. The bounds asserted are the ones derived in docs/budgets.md
 * (and src/enforce/admission.ts), for C = the most requests ever in flight at once:
 *   estimate/provider (reservation >= actual usage): charged <= L, so exactly 10 run, whatever C is;
 *   off (post-hoc): admitted <= floor((L - 1) / u) + C = 9 + C, charged <= (L - 1) + C * u, and never fewer
 *   than 10 run. With all 50 in flight at once that bound admits all 50 (post-hoc cannot stop requests
 *   already sent), so the bound is also checked where it bites: 5 in flight (at most 14 of 50 run) and
 *   4 processes x 2 in flight (at most 17 of 50).
 *   clamp (each request's output cap lowered to the room left after its input): charged <= L, and the budget
 *   is spent to within one request's input + minimum output before the first final refusal, with 50 requests
 *   in flight in one process and across 4, for an agent that asks 64,000 output tokens (Claude Code) and
 *   for one that asks less than the room.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { admit, settle, type RunBudgetPlan } from "../../src/enforce/admission.ts";
import { sqlEnforceStore } from "../../src/enforce/sql-store.ts";
import { MIN_CLAMP_OUTPUT } from "../../src/enforce/clamp.ts";
import { runClampRequests, runRequests, type ClampLoad, type ClampResult, type PoolResult } from "../support/admit-pool.ts";
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

async function inProcess(mode: "off" | "estimate", inflight = N): Promise<PoolResult & { charged: number }> {
  const file = ledgerFile();
  const db = openTestLedger(file);
  const store = sqlEnforceStore(db);
  await addRun(db, { id: "solo", agent: "busy" });
  const plan: RunBudgetPlan = { runId: "solo", timeZone: "UTC", preflight: mode, budgets: { claude: { provider: "claude", tokens: LIMIT, scope: "agent", name: "busy" } } };
  const r = await runRequests({ db, store, plan, count: N, inflight, usage: USAGE, ...(mode === "estimate" ? { reserve: USAGE } : {}) });
  await db.destroy();
  return { ...r, charged: await totalCharged(file) };
}

let procs: Subprocess[] = [];
afterEach(() => {
  for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
  procs = [];
});

async function acrossProcesses(mode: "off" | "estimate" | "clamp", inflight?: number, clamp?: { limit: number; load: ClampLoad }): Promise<{ admitted: number; maxInFlight: number; charged: number; refused: number; clamped: number; retried: number }> {
  const file = ledgerFile();
  openTestLedger(file).destroy(); // create the schema once, before the workers race
  const counts = [13, 13, 12, 12];
  procs = counts.map((c, i) =>
    Bun.spawn(["bun", "tests/support/admit-worker.ts", file, `run-${i}`, "busy", String(c), String(clamp?.limit ?? LIMIT), String(clamp?.load.natural ?? USAGE), mode, String(USAGE), String(inflight ?? c), ...(clamp ? [String(clamp.load.input), String(clamp.load.wanted)] : [])], {
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
  const results = await Promise.all(readers.map(async (r, i) => JSON.parse(await readLine(r, bufs[i]!)) as PoolResult & Partial<ClampResult>));
  expect(await Promise.all(procs.map((p) => p.exited))).toEqual([0, 0, 0, 0]);
  // Requests in flight in different processes at once are at most the sum of each process's maximum.
  const sum = (k: "admitted" | "maxInFlight" | "refused" | "clamped" | "retried") => results.reduce((a, r) => a + (r[k] ?? 0), 0);
  return { admitted: sum("admitted"), maxInFlight: sum("maxInFlight"), refused: sum("refused"), clamped: sum("clamped"), retried: sum("retried"), charged: await totalCharged(file) };
}

/** The post-hoc bound for C requests in flight: admitted <= floor((L - 1) / u) + C, charged <= L - 1 + C u. */
function expectOffBound(r: { admitted: number; charged: number }, c: number): void {
  expect(r.admitted).toBeGreaterThanOrEqual(LIMIT / USAGE);
  expect(r.admitted).toBeLessThanOrEqual(Math.floor((LIMIT - 1) / USAGE) + c);
  expect(r.charged).toBe(r.admitted * USAGE);
  expect(r.charged).toBeLessThanOrEqual(LIMIT - 1 + c * USAGE);
}

describe("50 requests, budget fits 10", () => {
  test("estimate, one process, all 50 at once: exactly 10 run and the budget is never exceeded", async () => {
    const r = await inProcess("estimate");
    expect(r.maxInFlight).toBe(N);
    expect(r.admitted).toBe(10);
    expect(r.charged).toBeLessThanOrEqual(LIMIT);
  });

  test("estimate, 4 processes, all at once: exactly 10 run in total, charged <= limit", async () => {
    const r = await acrossProcesses("estimate");
    expect(r.admitted).toBe(10);
    expect(r.charged).toBeLessThanOrEqual(LIMIT);
  });

  test("off, one process, all 50 at once: within 9 + C admitted for the C measured in flight", async () => {
    const r = await inProcess("off");
    expectOffBound(r, r.maxInFlight);
  });

  test("off, 4 processes, all at once: within the same bound", async () => {
    const r = await acrossProcesses("off");
    expectOffBound(r, r.maxInFlight);
  });

  test("off, one process, 5 in flight at a time: at most 9 + 5 = 14 of the 50 run", async () => {
    const r = await inProcess("off", 5);
    expect(r.maxInFlight).toBeLessThanOrEqual(5);
    expectOffBound(r, 5);
  });

  test("off, 4 processes, 2 in flight each: at most 9 + 8 = 17 of the 50 run", async () => {
    const r = await acrossProcesses("off", 2);
    expect(r.maxInFlight).toBeLessThanOrEqual(8);
    expectOffBound(r, 8);
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

describe("preflight: clamp, 50 requests in flight against a budget they overrun twice", () => {
  // Each request counts 100 input tokens and would write 300 output (400 unclamped): 50 of them want 20,000.
  const CLAMP_LIMIT = 10_000;
  const load = (wanted: number): ClampLoad => ({ input: 100, wanted, natural: 300 });

  async function clampInProcess(l: ClampLoad): Promise<ClampResult & { charged: number }> {
    const file = ledgerFile();
    const db = openTestLedger(file);
    const store = sqlEnforceStore(db);
    await addRun(db, { id: "clamped", agent: "busy" });
    const plan: RunBudgetPlan = { runId: "clamped", timeZone: "UTC", preflight: "clamp", budgets: { claude: { provider: "claude", tokens: CLAMP_LIMIT, scope: "agent", name: "busy" } } };
    const r = await runClampRequests({ db, store, plan, count: N, inflight: N, load: l });
    await db.destroy();
    return { ...r, charged: await totalCharged(file) };
  }

  /** Never over the limit; spent to within one request's input + minimum output; every request answered. */
  function expectClampBound(r: { admitted: number; refused: number; charged: number }, l: ClampLoad): void {
    expect(r.admitted + r.refused).toBe(N);
    expect(r.refused).toBeGreaterThan(0);
    expect(r.charged).toBeLessThanOrEqual(CLAMP_LIMIT);
    expect(r.charged).toBeGreaterThan(CLAMP_LIMIT - (l.input + MIN_CLAMP_OUTPUT));
  }

  for (const wanted of [64_000, 500]) {
    test(`one process, all 50 at once, each asking ${wanted} output tokens`, async () => {
      const r = await clampInProcess(load(wanted));
      expect(r.maxInFlight).toBe(N);
      expectClampBound(r, load(wanted));
    });

    test(`4 processes, all at once, each asking ${wanted} output tokens`, async () => {
      const r = await acrossProcesses("clamp", undefined, { limit: CLAMP_LIMIT, load: load(wanted) });
      expect(r.maxInFlight).toBe(N);
      expectClampBound(r, load(wanted));
    }, 60_000);
  }
});
