/**
 * A run process killed with a reservation held: on restart its reservation is released and the budget's
 * room comes back; reservations of live runs are kept. Failing closed: when the ledger cannot be read, the
 * admission hook refuses with a provider-shaped error instead of admitting unmetered.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { admit, type RunBudgetPlan } from "../../src/enforce/admission.ts";
import { budgetHooks } from "../../src/enforce/hooks.ts";
import { releaseStaleReservations } from "../../src/enforce/recovery.ts";
import { sqlEnforceStore } from "../../src/enforce/sql-store.ts";
import type { ProxyRequestContext } from "../../src/proxy/hooks.ts";
import { addRun, ledgerFile, openTestLedger } from "../support/enforce-db.ts";

let proc: Subprocess | undefined;
afterEach(() => {
  if (proc && proc.exitCode === null) proc.kill("SIGKILL");
  proc = undefined;
});

const plan = (runId: string): RunBudgetPlan => ({ runId, timeZone: "UTC", preflight: "estimate", budgets: { claude: { provider: "claude", tokens: 1000, scope: "agent", name: "crashy" } } });

describe("crash with reservations held", () => {
  test("killed run's reservation is released on restart; a live run's is kept", async () => {
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
    expect(released).toEqual({ runs: ["crashed"], reservations: 1 });
    expect(await admit(store, plan("alive"), { provider: "claude", reserve: 600 })).toMatchObject({ allow: true });
    const open = await db.selectFrom("reservations").select(["run_id", "tokens"]).where("released_at", "is", null).orderBy("tokens").execute();
    expect(open).toEqual([
      { run_id: "alive", tokens: 200 },
      { run_id: "alive", tokens: 600 },
    ]);
    // A second restart finds nothing more to release.
    expect(await releaseStaleReservations(store)).toEqual({ runs: [], reservations: 0 });
    await db.destroy();
  });
});

describe("fail closed", () => {
  test("a ledger that cannot be queried refuses the request with a non-retryable provider error", async () => {
    const db = openTestLedger(ledgerFile());
    await addRun(db, { id: "r", agent: "crashy" });
    await db.schema.dropTable("reservations").execute();
    const hooks = budgetHooks({ store: sqlEnforceStore(db), plan: plan("r"), policy: "cutoff" });
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
    expect(a.response.status).toBe(402);
    expect(a.response.headers.get("x-should-retry")).toBe("false");
    expect(await a.response.text()).toContain("budget ledger is unavailable");
    await db.destroy();
  });
});
