/**
 * A user's freeze and kill, from the dashboard (its f and k keys send the command through controlLiveRun,
 * which is what this test calls), against a real launch: the real Claude Code CLI in a sandbox bottle whose
 * simulated model has it wait in a long `sleep` tool call.
 *
 * - f behaves exactly like a budget's freeze: the run is recorded as frozen (not ended|signal|137), `bottle
 *   resume` restores it under the same id, and a new `--budget` given to resume is what `budget show` and
 *   the dashboard say governs it. Stopping a frozen run drops its snapshot, so nothing frozen stays behind.
 * - k tears the bottle down without saving: no run home is kept, no resume hint is printed, and resume
 *   says why it cannot continue. A budget's `kill` policy does the same.
 */
import { afterAll, beforeAll, beforeEach, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "kysely";
import { readRecord } from "../../src/backends/state.ts";
import { connectLedger, listRuns, type LedgerDb, type RunInfo } from "../../src/ledger/index.ts";
import { controlLiveRun } from "../../src/runs/control.ts";
import { startSimulator, type Simulator } from "../../src/simulator/server.ts";
import { AGENTS_BIN } from "../helpers/agent-suite.ts";
import { freshWorkspace } from "../helpers/bottles.ts";
import { freshHome, runCli, runCliJson, type CliOptions, type CliResult } from "../support/cli.ts";

setDefaultTimeout(200_000);

const WAIT = { name: "Bash", input: { command: "sleep 100", description: "wait" } };
let sim: Simulator;
const dbs: LedgerDb[] = [];

beforeAll(() => {
  if (!existsSync(join(AGENTS_BIN, "claude"))) throw new Error(`claude is not installed in ${AGENTS_BIN}: run bash scripts/install-agents.sh`);
  sim = startSimulator({ text: "Waiting.", toolUse: WAIT });
});
beforeEach(() => sim.set({ toolUse: WAIT }));
afterAll(async () => {
  for (const db of dbs) await db.destroy();
  await sim?.close();
});

function setup(): CliOptions & { home: string } {
  const home = freshHome();
  mkdirSync(join(home, "bottles"));
  writeFileSync(join(home, "bottles", "fake-anthropic.md"), `---\negress:\n  routes:\n    - host: api.anthropic.com\n      upstream: ${sim.url}\n---\n`);
  return { home, cwd: freshWorkspace(), env: { PATH: `${AGENTS_BIN}:${process.env.PATH}` }, timeoutMs: 150_000 };
}

async function until<T>(what: string, f: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 1200; i++) {
    const v = await f();
    if (v !== undefined) return v;
    await Bun.sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The running run, once its agent sits in the `sleep` tool call (its first request is metered). */
async function waiting(db: LedgerDb, id?: string): Promise<RunInfo> {
  return until("the run's agent waiting in its tool call", async () => {
    const runs = await listRuns(db, { state: "running" });
    const r = runs.find((x) => id === undefined || x.id === id);
    if (!r) return undefined;
    const n = await db.selectFrom("usage_events").select(sql<number>`count(*)`.as("n")).where("run_id", "=", r.id).executeTakeFirstOrThrow();
    return Number(n.n) > (id === undefined ? 0 : 1) ? r : undefined;
  });
}

function ledger(home: string): LedgerDb {
  const db = connectLedger({ path: join(home, "bottle.db") });
  dbs.push(db);
  return db;
}

test("f freezes a run as a budget would: frozen, resumed under its id with a new --budget that budget show and the dashboard report, and a stop of the frozen run drops its snapshot", async () => {
  const o = setup();
  const launched = runCli(["run", "claude", "--headless", "--prompt", "Wait.", "--bottle", "fake-anthropic", "--backend", "sandbox", "--label", "icy"], o);
  const db = ledger(o.home);
  const run = await waiting(db);
  expect(await controlLiveRun(db, run.id, "freeze")).toEqual({ runId: run.id, command: "freeze", result: "done" });
  const first: CliResult = await launched;
  expect(first.timedOut).toBe(false);
  expect(first.stderr).toContain(`bottle: run ${run.id} was frozen by the user`);
  expect(first.stderr).toContain(`bottle: to continue this run: bottle resume ${run.id}`);
  const frozen = await db.selectFrom("runs").select(["state", "stop_reason", "exit_code"]).where("id", "=", run.id).executeTakeFirstOrThrow();
  expect(frozen).toEqual({ state: "frozen", stop_reason: null, exit_code: null });
  expect((await runCliJson<Array<{ runId: string; state: string }>>(["ps"], o)).map((b) => [b.runId, b.state])).toEqual([[run.id, "frozen"]]);

  // Resume under the same id, from the snapshot, with a budget of its own; it waits in its tool call again.
  const resumed = runCli(["resume", run.id, "--headless", "--prompt", "Go on.", "--budget", "77777"], o);
  await waiting(db, run.id);
  const limits = (budgets: Array<{ scope: string; limit: number }>) => [...new Set(budgets.map((b) => `${b.scope} ${b.limit}`))];
  const show = await runCliJson<{ runs: Array<{ runId: string; budgets: Array<{ scope: string; limit: number }> }> }>(["budget", "show"], o);
  expect(show.runs.map((r) => [r.runId, limits(r.budgets)])).toEqual([[run.id, ["run 77777"]]]);
  const dash = await runCliJson<{ runs: Array<{ runId: string; budgets: Array<{ scope: string; limit: number }> }> }>(["dashboard"], o);
  expect(dash.runs.filter((r) => r.runId === run.id).map((r) => limits(r.budgets))).toEqual([["run 77777"]]);

  // Frozen again, then stopped while frozen: the snapshot goes, the run ends, nothing frozen is listed.
  expect((await controlLiveRun(db, run.id, "freeze")).result).toBe("done");
  const second = await resumed;
  expect(second.stderr).toContain(`bottle: run ${run.id} was frozen by the user`);
  expect(readRecord(run.id, o.home)?.snapshot).toBeDefined();
  expect(await runCliJson(["stop", run.id], o)).toEqual({ runId: run.id, via: "backend", result: "done" });
  expect(readRecord(run.id, o.home)?.snapshot).toBeUndefined();
  expect(existsSync(join(o.home, "runs", run.id, "snapshot"))).toBe(false);
  expect(await runCliJson(["ps"], o)).toEqual([]);
  const ended = await db.selectFrom("runs").select(["state", "stop_reason"]).where("id", "=", run.id).executeTakeFirstOrThrow();
  expect(ended).toEqual({ state: "ended", stop_reason: "user" });
});

test("k kills without saving: no run home is kept, no resume hint is printed, and resume says why", async () => {
  const o = setup();
  const launched = runCli(["run", "claude", "--headless", "--prompt", "Wait.", "--bottle", "fake-anthropic", "--backend", "sandbox", "--label", "doomed"], o);
  const db = ledger(o.home);
  const run = await waiting(db);
  expect(existsSync(join(o.home, "runs", run.id, "home"))).toBe(true);
  expect((await controlLiveRun(db, run.id, "kill")).result).toBe("done");
  const r = await launched;
  expect(r.timedOut).toBe(false);
  expect(r.stderr).toContain(`bottle: run ${run.id} was killed (torn down without saving) by the user`);
  expect(r.stderr).not.toContain("bottle resume");
  expect(existsSync(join(o.home, "runs", run.id, "home"))).toBe(false);
  const row = await db.selectFrom("runs").select(["state", "stop_reason"]).where("id", "=", run.id).executeTakeFirstOrThrow();
  expect(row).toEqual({ state: "ended", stop_reason: "user" });
  const again = await runCli(["resume", run.id, "--headless", "--prompt", "Go on."], o);
  expect(again.code).not.toBe(0);
  expect(again.stderr).toContain(`run ${run.id} was killed, and a kill saves nothing to continue from`);
});

test("a budget's kill saves nothing either: exit 75 with its reason, no run home, no resume hint", async () => {
  const o = setup();
  const r = await runCli(["run", "claude", "--headless", "--prompt", "Wait.", "--bottle", "fake-anthropic", "--backend", "sandbox", "--budget", "30", "--shutdown", "kill"], o);
  expect(r.timedOut).toBe(false);
  expect(r.code).toBe(75);
  const runId = /bottle: run (\S+) was killed by its budget/.exec(r.stderr)?.[1];
  expect(runId).toBeDefined();
  expect(r.stderr).not.toContain("bottle resume");
  expect(existsSync(join(o.home, "runs", runId!, "home"))).toBe(false);
});
