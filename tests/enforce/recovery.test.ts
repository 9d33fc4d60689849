/**
 * A run process killed with a reservation held: on restart its reservation is charged in full (whether the
 * response reached the agent is unknown), the run is marked crashed and a crash action says what was
 * charged; reservations of live runs are kept. Failing closed: when the ledger cannot be read, the
 * admission hook refuses with a retryable provider-shaped 503 naming the ledger, never a budget refusal.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { admit, type RunBudgetPlan } from "../../src/enforce/admission.ts";
import { budgetHooks } from "../../src/enforce/hooks.ts";
import { releaseStaleReservations } from "../../src/enforce/recovery.ts";
import { sqlEnforceStore } from "../../src/enforce/sql-store.ts";
import type { ProxyRequestContext } from "../../src/proxy/hooks.ts";
import { checkTotals, type LedgerDb } from "../../src/ledger/index.ts";
import { addRun, ledgerFile, openTestLedger } from "../support/enforce-db.ts";
import { onPostgres } from "../support/postgres.ts";

let proc: Subprocess | undefined;
afterEach(() => {
  if (proc && proc.exitCode === null) proc.kill("SIGKILL");
  proc = undefined;
});

const plan = (runId: string): RunBudgetPlan => ({ runId, timeZone: "UTC", preflight: "estimate", budgets: { claude: { provider: "claude", tokens: 1000, scope: "agent", name: "crashy" } } });

describe("crash with reservations held", () => {
  test("killed run's reservation is charged in full on restart, the run is marked crashed; a live run's is kept", async () => {
    const file = ledgerFile();
    openTestLedger(file).destroy();
    proc = Bun.spawn(["bun", "tests/support/hold-reservation.ts", file, "crashed", "700"], { stdout: "pipe", stderr: "inherit" });
    const line = (await (proc.stdout as ReadableStream<Uint8Array>).getReader().read()).value!;
    expect(JSON.parse(new TextDecoder().decode(line))).toMatchObject({ allow: true, reserved: 700 });
    proc.kill("SIGKILL");
    await proc.exited;

    const db = openTestLedger(file);
    const store = sqlEnforceStore(db);
    await addRun(db, { id: "alive", agent: "crashy", pid: process.pid });
    expect(await admit(store, plan("alive"), { provider: "claude", reserve: 200 })).toMatchObject({ allow: true });
    // Before recovery, the dead run still holds 700 of the 1000.
    expect(await admit(store, plan("alive"), { provider: "claude", reserve: 200 })).toMatchObject({ allow: false, kind: "budget" });

    const released = await releaseStaleReservations(store);
    expect(released).toEqual({ runs: ["crashed"], reservations: 1, tokens: 700 });
    // The 700 are now charged, not held: 1000 - 700 - 200 leaves room for 100, not 600.
    expect(await admit(store, plan("alive"), { provider: "claude", reserve: 600 })).toMatchObject({ allow: false, kind: "budget", facts: { used: 900 } });
    expect(await admit(store, plan("alive"), { provider: "claude", reserve: 100 })).toMatchObject({ allow: true });
    const open = await db.selectFrom("reservations").select(["run_id", "tokens"]).where("released_at", "is", null).orderBy("tokens").execute();
    expect(open).toEqual([
      { run_id: "alive", tokens: 100 },
      { run_id: "alive", tokens: 200 },
    ]);
    const usage = await db.selectFrom("usage_events").select(["run_id", "total_tokens"]).execute();
    expect(usage).toEqual([{ run_id: "crashed", total_tokens: 700 }]);
    const dead = await (db as unknown as LedgerDb).selectFrom("runs").select(["state", "stop_reason"]).where("id", "=", "crashed").executeTakeFirstOrThrow();
    expect(dead).toEqual({ state: "crashed", stop_reason: "crashed" });
    const actions = await db.selectFrom("enforcement_actions").select(["run_id", "kind", "trigger", "detail"]).execute();
    expect(actions).toEqual([{ run_id: "crashed", kind: "crash", trigger: "startup", detail: expect.stringContaining("700 tokens, charged in full") }]);
    // The running totals still equal the usage.
    expect(await checkTotals(db)).toMatchObject({ mismatches: [] });
    // A second restart finds nothing more to charge.
    expect(await releaseStaleReservations(store)).toEqual({ runs: [], reservations: 0 });
    await db.destroy();
  });
});

describe("fail closed", () => {
  test("a ledger that cannot be queried refuses the request with a retryable 503 naming the ledger", async () => {
    const db = openTestLedger(ledgerFile());
    await addRun(db, { id: "r", agent: "crashy" });
    await db.schema.dropTable("reservations").execute();
    const store = sqlEnforceStore(db);
    const hooks = budgetHooks({ store, plan: plan("r"), policy: "cutoff" });
    const ctx: ProxyRequestContext = {
      id: "x1",
      runId: "r",
      method: "POST",
      host: "api.anthropic.com",
      port: 443,
      path: "/v1/messages",
      upstreamUrl: "https://api.anthropic.com/v1/messages",
      provider: "claude",
      requestHeaders: new Headers(),
      startedAt: Date.now(),
      state: {},
    };
    const body = new TextEncoder().encode(JSON.stringify({ model: "m", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }));
    const a = await hooks.admit!(ctx, body);
    expect(a.allow).toBe(false);
    if (a.allow) return;
    expect(a.response.status).toBe(503);
    expect(a.response.headers.get("retry-after")).toBe("2");
    expect(a.response.headers.get("x-should-retry")).toBe("true");
    const refusal = (await a.response.json()) as { error: { type: string; message: string } };
    expect(refusal.error.type).toBe("overloaded_error");
    expect(refusal.error.message).toContain(store.location!);
    expect(refusal.error.message).toContain(onPostgres() ? 'relation "reservations" does not exist' : "no such table: reservations");
    await db.destroy();
  });
});
