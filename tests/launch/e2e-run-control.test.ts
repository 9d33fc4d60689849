/**
 * The run commands against a real launch: `bottle run claude --headless` puts the real Claude Code CLI in a
 * sandbox bottle whose model (the simulator, on loopback) asks it to run a long `sleep`. While the agent
 * waits in that tool call, `bottle budget cutoff` and `restore` are carried out by the launching process
 * (admission follows), `bottle logs` shows the run's egress, and `bottle stop` makes the launching process
 * tear the bottle down and finish: the command is reported done, `bottle run` returns, the run is ended in
 * the ledger and the stop is recorded.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "kysely";
import { connectLedger, listRuns, type LedgerDb } from "../../src/ledger/index.ts";
import { startSimulator, type Simulator } from "../../src/simulator/server.ts";
import type { AuditEntry } from "../../src/runs/logs.ts";
import { AGENTS_BIN } from "../helpers/agent-suite.ts";
import { freshWorkspace } from "../helpers/bottles.ts";
import { freshHome, runCli, runCliJson } from "../support/cli.ts";

setDefaultTimeout(150_000);

let sim: Simulator;
let db: LedgerDb | undefined;

beforeAll(() => {
  if (!existsSync(join(AGENTS_BIN, "claude"))) throw new Error(`claude is not installed in ${AGENTS_BIN}: run bash scripts/install-agents.sh`);
  sim = startSimulator({ text: "Waiting.", toolUse: { name: "Bash", input: { command: "sleep 100", description: "wait" } } });
});
afterAll(async () => {
  await db?.destroy();
  await sim?.close();
});

async function until<T>(what: string, f: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const v = await f();
    if (v !== undefined) return v;
    await Bun.sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

test("cutoff, restore, logs and stop act on a real running launch", async () => {
  const home = freshHome();
  mkdirSync(join(home, "bottles"));
  writeFileSync(join(home, "bottles", "fake-anthropic.md"), `---\negress:\n  routes:\n    - host: api.anthropic.com\n      upstream: ${sim.url}\n  log: full\n---\n`);
  const launched = runCli(["run", "claude", "--headless", "--prompt", "Wait.", "--bottle", "fake-anthropic", "--backend", "sandbox", "--label", "waiter"], {
    home,
    cwd: freshWorkspace(),
    env: { PATH: `${AGENTS_BIN}:${process.env.PATH}` },
    timeoutMs: 120_000,
  });
  db = connectLedger({ path: join(home, "bottle.db") });
  const ledger = db;
  // The agent is in its `sleep` tool call once the first generation has been answered and metered.
  const run = await until("the run's first metered request", async () => {
    const [r] = await listRuns(ledger, { state: "running" });
    if (!r) return undefined;
    const used = await ledger.selectFrom("usage_events").select("id").where("run_id", "=", r.id).executeTakeFirst();
    return used ? r : undefined;
  });
  expect(run.label).toBe("waiter");

  expect(await runCliJson(["budget", "cutoff", "waiter"], { home })).toEqual({ runId: run.id, command: "cutoff", result: "done" });
  expect(await runCliJson(["budget", "restore", run.id], { home })).toEqual({ runId: run.id, command: "restore", result: "done" });

  const logs = await runCli(["logs", run.id, "--json"], { home });
  expect(logs.code).toBe(0);
  const entries = logs.stdout.trim().split("\n").map((l) => JSON.parse(l) as AuditEntry);
  expect(entries.some((e) => e.host === "api.anthropic.com" && e.method === "POST" && e.path.startsWith("/v1/messages") && e.status === 200 && e.decision === "mitm")).toBe(true);

  const show = await runCliJson<{ runs: Array<{ runId: string }> }>(["budget", "show"], { home });
  expect(show.runs.map((r) => r.runId)).toEqual([run.id]);

  expect(await runCliJson(["stop", run.id], { home })).toEqual({ runId: run.id, via: "owner", result: "done" });
  const r = await launched;
  expect(r.timedOut).toBe(false);
  expect(r.stderr).toContain(`bottle: to continue this run: bottle resume ${run.id}`);
  const after = await ledger.selectFrom("runs").select(["state", "stop_reason"]).where("id", "=", run.id).executeTakeFirstOrThrow();
  expect(after).toEqual({ state: "ended", stop_reason: "user" });
  const actions = await ledger.selectFrom("enforcement_actions").select(["kind", "trigger"]).where("run_id", "=", run.id).orderBy("id").execute();
  expect(actions).toEqual([
    { kind: "cutoff", trigger: "user" },
    { kind: "restore", trigger: "user" },
    { kind: "stop", trigger: "user" },
  ]);
  expect((await runCliJson<{ runs: unknown[] }>(["budget", "show"], { home })).runs).toEqual([]);
});
