/**
 * `bottle budget cutoff|restore` and `bottle stop` through the real CLI, against live runs: each run is a
 * real stand-in process (tests/support/standin-run.ts) that owns the run in the home's ledger and polls its
 * command queue the way a launch does. The CLI waits for the owner's outcome; admission follows the cutoff
 * and the restore; stop makes the owner tear its bottle down and exit cleanly; with the owner gone, stop
 * tears a real sandbox bottle down through the backend. Unknown, ended and frozen runs are clear errors.
 */
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { sql } from "kysely";
import { SandboxBackend } from "../../src/backends/sandbox/index.ts";
import { readRecord } from "../../src/backends/state.ts";
import type { BottleHandle, RunningProcess } from "../../src/backends/types.ts";
import { admit, type RunBudgetPlan } from "../../src/enforce/admission.ts";
import { pidAlive } from "../../src/enforce/run-control.ts";
import { sqlEnforceStore } from "../../src/enforce/sql-store.ts";
import { connectLedger, endRun, getRun, registerRun, setRunState, type LedgerDb } from "../../src/ledger/index.ts";
import { echoProxy, freshWorkspace, planFor, type EchoProxy } from "../helpers/bottles.ts";
import { runCli, runCliJson, freshHome } from "../support/cli.ts";
import { killStandins, startStandin } from "../support/standin.ts";

setDefaultTimeout(60_000);

let home: string;
let db: LedgerDb;
let proxy: EchoProxy;
const handles: BottleHandle[] = [];
const procs: RunningProcess[] = [];

beforeAll(() => {
  home = freshHome();
  db = connectLedger({ path: join(home, "bottle.db") });
  proxy = echoProxy();
});
afterEach(async () => {
  killStandins();
  for (const p of procs.splice(0)) p.kill("SIGKILL");
  for (const h of handles.splice(0)) await new SandboxBackend({ home }).teardown(h);
});
afterAll(async () => {
  proxy.stop();
  await db.destroy();
});

const ledgerFile = () => join(home, "bottle.db");
const plan = (runId: string): RunBudgetPlan => ({ runId, timeZone: "UTC", preflight: "off", budgets: {} });
const actions = (runId: string) => db.selectFrom("enforcement_actions").select(["kind", "trigger"]).where("run_id", "=", runId).orderBy("id").execute();

describe("budget cutoff and restore on a live run", () => {
  test("the owner acts, the CLI reports its outcome, and admission follows", async () => {
    await startStandin(ledgerFile(), "live-1", "cutter");
    const store = sqlEnforceStore(db);
    expect(await runCliJson(["budget", "cutoff", "live-1"], { home })).toEqual({ runId: "live-1", command: "cutoff", result: "done" });
    expect(await admit(store, plan("live-1"), { provider: "claude" })).toMatchObject({ allow: false, kind: "cutoff" });
    expect(await runCliJson(["budget", "cutoff", "live-1"], { home })).toMatchObject({ result: "no change" });
    // A run can be named by its label (unique among live runs), as `bottle ps` shows it.
    expect(await runCliJson(["budget", "restore", "cutter"], { home })).toEqual({ runId: "live-1", command: "restore", result: "done" });
    expect((await admit(store, plan("live-1"), { provider: "claude" })).allow).toBe(true);
    expect(await runCliJson(["budget", "restore", "live-1"], { home })).toMatchObject({ result: "no change" });
    expect(await actions("live-1")).toEqual([
      { kind: "cutoff", trigger: "user" },
      { kind: "restore", trigger: "user" },
    ]);
    const human = await runCli(["budget", "cutoff", "live-1"], { home });
    expect(human.code).toBe(0);
    expect(human.stderr).toContain("run live-1 is cut off");
  });

  test("unknown, ended, frozen and dead runs are errors that say why, and nothing is queued", async () => {
    const dead = Bun.spawn(["true"]);
    await dead.exited;
    await registerRun(db, { id: "over", agent: "a", pid: null });
    await endRun(db, "over", { exitCode: 0 });
    await registerRun(db, { id: "iced", agent: "a", pid: null });
    await setRunState(db, "iced", "frozen");
    await registerRun(db, { id: "crashed", agent: "a", pid: dead.pid });
    const cases: Array<[string, RegExp]> = [
      ["nobody", /no run "nobody" in the ledger/],
      ["over", /run over has ended at .*; there is nothing to cut off/],
      ["iced", /run iced is frozen; nothing runs to cut off — bring it back with `bottle resume iced` first/],
      ["crashed", /run crashed is not live \(its process \d+ has ended\)/],
    ];
    for (const [ref, message] of cases) {
      const r = await runCli(["budget", "cutoff", ref], { home });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
    }
    const missing = await runCli(["budget", "restore"], { home });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("usage: bottle budget restore <run>");
    expect(await db.selectFrom("commands").selectAll().where("run_id", "in", ["over", "iced", "crashed"]).execute()).toEqual([]);
  });
});

describe("bottle stop", () => {
  test("a live owner tears its bottle down, marks the command done and exits cleanly", async () => {
    const s = await startStandin(ledgerFile(), "live-2", "stopper");
    expect(await runCliJson(["stop", "live-2"], { home })).toEqual({ runId: "live-2", via: "owner", result: "done" });
    expect(await s.proc.exited).toBe(0);
    expect(pidAlive(s.bottlePid)).toBe(false);
    expect(await actions("live-2")).toEqual([{ kind: "stop", trigger: "user" }]);
    // Once the stop is recorded the proxy refuses the run's requests, whatever else happens.
    expect(await admit(sqlEnforceStore(db), plan("live-2"), { provider: "claude" })).toMatchObject({ allow: false, kind: "cutoff" });
  });

  test("a live owner holding a real sandbox bottle tears it down through the backend (BackendRunControl)", async () => {
    const s = await startStandin(ledgerFile(), "live-sandbox", "boxed", [], home);
    const backend = new SandboxBackend({ home });
    expect((await backend.list()).find((b) => b.runId === "live-sandbox")?.state).toBe("running");
    try {
      expect(await runCliJson(["stop", "live-sandbox"], { home })).toEqual({ runId: "live-sandbox", via: "owner", result: "done" });
      expect(await s.proc.exited).toBe(0);
      expect((await backend.list()).find((b) => b.runId === "live-sandbox")).toBeUndefined();
      expect(await actions("live-sandbox")).toEqual([{ kind: "stop", trigger: "user" }]);
    } finally {
      const rec = readRecord("live-sandbox", home);
      if (rec) await backend.teardown(rec.handle);
    }
  });

  test("with the owner gone, a real sandbox bottle is torn down through its backend and the run ended", async () => {
    const backend = new SandboxBackend({ home });
    const h = await backend.create(planFor({ proxySocket: proxy.socketPath, cwd: freshWorkspace(), agent: "orphaned" }));
    handles.push(h);
    procs.push(backend.exec(h, ["sleep", "600"], { attach: "capture" }));
    expect((await backend.list()).find((b) => b.runId === h.runId)?.state).toBe("running");
    const dead = Bun.spawn(["true"]);
    await dead.exited;
    await registerRun(db, { id: h.runId, agent: "orphaned", backend: "sandbox", pid: dead.pid });

    expect(await runCliJson(["stop", h.runId], { home })).toEqual({ runId: h.runId, via: "backend", result: "done" });
    expect((await backend.list()).find((b) => b.runId === h.runId)).toBeUndefined();
    expect(await actions(h.runId)).toEqual([{ kind: "stop", trigger: "user" }]);
    expect(await getRun(db, h.runId)).toMatchObject({ state: "ended", stopReason: "user" });

    const again = await runCli(["stop", h.runId], { home });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`run ${h.runId} is not running (it has ended, and no bottle of it is left)`);
  });
});
