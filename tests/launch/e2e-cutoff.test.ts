/**
 * The main job, end to end, as CI runs it: `bottle run claude --headless` puts the real Claude Code CLI in
 * a sandbox bottle whose bottle file sends api.anthropic.com to a fake upstream (the simulator, on
 * loopback, counting what reaches it). Every turn is a tool call, so the agent keeps asking until something
 * stops it. Each request costs 37 tokens and the run budget is 50, smaller than two requests: the second
 * request crosses it, the third is refused by the proxy with a response Claude Code does not retry, the
 * agent gives up, and bottle exits 75 with a one-line reason. The ledger shows the usage, the cutoff
 * action and the single refusal.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openLedger, type LedgerDb } from "../../src/ledger/index.ts";
import { EXIT_BUDGET_STOPPED } from "../../src/launch/types.ts";
import { startSimulator, type Simulator } from "../../src/simulator/server.ts";
import { AGENTS_BIN } from "../helpers/agent-suite.ts";
import { freshWorkspace } from "../helpers/bottles.ts";
import { freshHome, runCli } from "../support/cli.ts";

setDefaultTimeout(150_000);

let sim: Simulator;
let db: LedgerDb | undefined;

beforeAll(() => {
  if (!existsSync(join(AGENTS_BIN, "claude"))) throw new Error(`claude is not installed in ${AGENTS_BIN}: run bash scripts/install-agents.sh`);
  sim = startSimulator({ text: "Recording a step.", toolUse: { name: "Bash", input: { command: 'echo "$STEP_WORD" >> steps.txt', description: "record a step" } } });
});
afterAll(async () => {
  await db?.destroy();
  await sim?.close();
});

test("a real agent in a sandbox bottle is cut off after the request that crosses its budget, and does not retry", async () => {
  const home = freshHome();
  mkdirSync(join(home, "bottles"));
  // STEP_WORD is asked for at launch; headless, the answer comes from the host environment.
  writeFileSync(join(home, "bottles", "fake-anthropic.md"), `---\nenv:\n  STEP_WORD: "?A word to record"\negress:\n  routes:\n    - host: api.anthropic.com\n      upstream: ${sim.url}\n  log: blocks\n---\n`);
  const ws = freshWorkspace();
  const r = await runCli(["run", "claude", "--headless", "--prompt", "Record steps until told to stop.", "--bottle", "fake-anthropic", "--backend", "sandbox", "--budget", "50"], {
    home,
    cwd: ws,
    env: { PATH: `${AGENTS_BIN}:${process.env.PATH}`, STEP_WORD: "step-from-the-host" },
    timeoutMs: 120_000,
  });
  expect(r.timedOut).toBe(false);
  expect(r.code).toBe(EXIT_BUDGET_STOPPED);

  // Exactly two generations reached the upstream: the one under the budget and the one that crossed it.
  const generations = sim.requests.filter((q) => q.method === "POST" && q.path.split("?")[0] === "/v1/messages");
  expect(generations.length).toBe(2);
  // The agent really worked in the bottle: its tool calls ran in the workspace, with the answered env value.
  expect(readFileSync(join(ws, "steps.txt"), "utf8")).toBe("step-from-the-host\nstep-from-the-host\n");

  const runId = /bottle resume (\S+)/.exec(r.stderr)?.[1];
  expect(runId).toBeDefined();
  const reason = r.stderr.split("\n").filter((l) => l.includes("was cut off by its budget"));
  expect(reason).toEqual([`bottle: run ${runId} was cut off by its budget: run budget (--budget): 74 of 50 claude tokens used (exit 75; the agent exited 1)`]);
  expect(r.stderr).toContain(`bottle: run ${runId}: 2 metered requests, 74 tokens (50 in, 24 out)`);

  db = await openLedger({ path: join(home, "bottle.db") });
  const usage = await db.selectFrom("usage_events").select(["total_tokens", "path"]).where("run_id", "=", runId!).execute();
  expect(usage.map((u) => u.total_tokens)).toEqual([37, 37]);
  const actions = await db.selectFrom("enforcement_actions").selectAll().where("run_id", "=", runId!).execute();
  expect(actions.map((a) => [a.kind, a.trigger, a.used, a.limit_tokens])).toEqual([["cutoff", "budget", 74, 50]]);
  // One refusal, and no retry of it: the agent never asked again.
  const refused = await db.selectFrom("egress_audit").selectAll().where("run_id", "=", runId!).where("decision", "=", "refuse").execute();
  expect(refused.map((a) => [a.method, a.host, a.path.split("?")[0], a.status])).toEqual([["POST", "api.anthropic.com", "/v1/messages", 402]]);
  const run = await db.selectFrom("runs").selectAll().where("id", "=", runId!).executeTakeFirstOrThrow();
  expect(run).toMatchObject({ state: "ended", exit_code: 1, stop_reason: "budget", agent: "claude", backend: "sandbox", label: "claude" });
  expect(JSON.parse(run.bottles)).toEqual(["fake-anthropic"]);
  // The bottle is gone: nothing of this run is left running.
  const ps = await runCli(["ps", "--json"], { home });
  expect(JSON.parse(ps.stdout)).toEqual([]);
});
