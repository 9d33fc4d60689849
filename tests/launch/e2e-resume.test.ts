/**
 * `bottle resume`, end to end with the real Claude Code CLI in sandbox bottles against a fake upstream:
 *
 * - a run frozen by its budget keeps its id; resume restores its snapshot, records a `restore`, and the
 *   agent continues its own session (`--continue`): the first request after resume carries the earlier
 *   conversation;
 * - a run that ended (cut off) is continued by a new run in a fresh bottle with a copy of the old home,
 *   and again the agent's first request carries the earlier conversation.
 *
 * A freeze saves what is on disk at that instant, never the agent's memory (docs/backends.md). Claude Code
 * writes its session transcript a turn behind, asynchronously, so on a loaded machine the budget could
 * freeze the run before the first prompt reached the disk, and the resumed agent would rightly not know
 * it. The frozen-run test therefore holds the crossing response's last event until the transcript in the
 * run's home holds the first prompt: the freeze then always finds a session to continue.
 */
import { afterAll, beforeAll, beforeEach, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openLedger, type LedgerDb } from "../../src/ledger/index.ts";
import { EXIT_BUDGET_STOPPED } from "../../src/launch/types.ts";
import { startSimulator, type Simulator } from "../../src/simulator/server.ts";
import { AGENTS_BIN } from "../helpers/agent-suite.ts";
import { freshWorkspace } from "../helpers/bottles.ts";
import { freshHome, runCli, type CliOptions } from "../support/cli.ts";

setDefaultTimeout(200_000);

const LOOP = { name: "Bash", input: { command: "echo step >> steps.txt", description: "record a step" } };
const FIRST_PROMPT = "Record steps until told to stop. MARKER-first-prompt";
let sim: Simulator;
const dbs: LedgerDb[] = [];

beforeAll(() => {
  if (!existsSync(join(AGENTS_BIN, "claude"))) throw new Error(`claude is not installed in ${AGENTS_BIN}: run bash scripts/install-agents.sh`);
  sim = startSimulator({ text: "Recording a step.", toolUse: LOOP });
});
beforeEach(() => {
  sim.requests.length = 0;
  sim.set({ toolUse: LOOP, beforeEvent: undefined });
});
afterAll(async () => {
  for (const db of dbs) await db.destroy();
  await sim?.close();
});

function setup(): CliOptions {
  const home = freshHome();
  mkdirSync(join(home, "bottles"));
  writeFileSync(join(home, "bottles", "fake-anthropic.md"), `---\negress:\n  routes:\n    - host: api.anthropic.com\n      upstream: ${sim.url}\n---\n`);
  return { home, cwd: freshWorkspace(), env: { PATH: `${AGENTS_BIN}:${process.env.PATH}` }, timeoutMs: 120_000 };
}

const RUN = ["run", "claude", "--headless", "--prompt", FIRST_PROMPT, "--bottle", "fake-anthropic", "--backend", "sandbox", "--budget", "50"];

function generations(): Array<{ messages: Array<{ role: string; content: unknown }> }> {
  return sim.requests.filter((q) => q.method === "POST" && q.path.split("?")[0] === "/v1/messages").map((q) => q.body as never);
}

async function ledger(o: CliOptions): Promise<LedgerDb> {
  const db = await openLedger({ path: join(o.home!, "bottle.db") });
  dbs.push(db);
  return db;
}

/** Whether a Claude Code session transcript in any run home under `home` holds `marker`. */
function transcriptHolds(home: string, marker: string): boolean {
  const runs = join(home, "runs");
  if (!existsSync(runs)) return false;
  for (const run of readdirSync(runs)) {
    const projects = join(runs, run, "home", ".claude", "projects");
    if (!existsSync(projects)) continue;
    for (const p of readdirSync(projects)) {
      for (const f of readdirSync(join(projects, p))) if (f.endsWith(".jsonl") && readFileSync(join(projects, p, f), "utf8").includes(marker)) return true;
    }
  }
  return false;
}

test("a frozen run resumes from its snapshot under the same id, and the agent continues its session", async () => {
  const o = setup();
  // The second generation crosses the budget of 50 (37 tokens each) and freezes the run when it ends.
  sim.set({
    async beforeEvent(index, total) {
      if (sim.generations !== 2 || index !== total - 1) return;
      for (let i = 0; i < 1200 && !transcriptHolds(o.home!, "MARKER-first-prompt"); i++) await Bun.sleep(50);
    },
  });
  const first = await runCli([...RUN, "--shutdown", "freeze"], o);
  sim.set({ beforeEvent: undefined });
  expect(first.timedOut).toBe(false);
  expect(first.code).toBe(EXIT_BUDGET_STOPPED);
  const runId = /bottle resume (\S+)/.exec(first.stderr)![1]!;
  expect(first.stderr).toContain(`bottle: run ${runId} was frozen by its budget`);
  const ps = JSON.parse((await runCli(["ps", "--json"], o)).stdout) as Array<{ runId: string; state: string }>;
  expect(ps.map((b) => [b.runId, b.state])).toEqual([[runId, "frozen"]]);

  // The model now answers without a tool call, so the resumed agent finishes on its own.
  sim.requests.length = 0;
  sim.set({ toolUse: undefined });
  const resumed = await runCli(["resume", runId, "--headless", "--prompt", "Summarise what you did. MARKER-resume", "--budget", "100000"], o);
  expect(resumed.timedOut).toBe(false);
  expect(resumed.code).toBe(0);
  const [next] = generations();
  const text = JSON.stringify(next!.messages);
  expect(text).toContain("MARKER-first-prompt");
  expect(text).toContain("MARKER-resume");
  expect(resumed.stderr).toContain(`resuming frozen run ${runId}`);

  const db = await ledger(o);
  const run = await db.selectFrom("runs").selectAll().where("id", "=", runId).executeTakeFirstOrThrow();
  expect(run).toMatchObject({ state: "ended", exit_code: 0, stop_reason: null });
  const actions = await db.selectFrom("enforcement_actions").select(["kind", "trigger"]).where("run_id", "=", runId).orderBy("id").execute();
  expect(actions.map((a) => [a.kind, a.trigger])).toEqual([
    ["freeze", "budget"],
    ["restore", "resume"],
  ]);
  expect(JSON.parse((await runCli(["ps", "--json"], o)).stdout)).toEqual([]);
  // Resumed and ended: the snapshot it came from is not kept.
  expect(existsSync(join(o.home!, "runs", runId, "snapshot"))).toBe(false);
});

test("an ended run is continued by a new run with the old home, and the agent continues its session", async () => {
  const o = setup();
  const first = await runCli(RUN, o);
  expect(first.code).toBe(EXIT_BUDGET_STOPPED);
  const oldId = /bottle resume (\S+)/.exec(first.stderr)![1]!;

  sim.requests.length = 0;
  sim.set({ toolUse: undefined });
  const resumed = await runCli(["resume", oldId, "--headless", "--prompt", "Summarise what you did. MARKER-resume"], o);
  expect(resumed.timedOut).toBe(false);
  expect(resumed.code).toBe(0);
  const newId = /bottle resume (\S+)/.exec(resumed.stderr)![1]!;
  expect(newId).not.toBe(oldId);
  expect(resumed.stderr).toContain(`continuing ended run ${oldId} as run ${newId}`);
  const text = JSON.stringify(generations()[0]!.messages);
  expect(text).toContain("MARKER-first-prompt");
  expect(text).toContain("MARKER-resume");

  const db = await ledger(o);
  const runs = await db.selectFrom("runs").select(["id", "state", "stop_reason", "label"]).orderBy("started_at").execute();
  expect(runs).toEqual([
    { id: oldId, state: "ended", stop_reason: "budget", label: "claude" },
    { id: newId, state: "ended", stop_reason: null, label: "claude" },
  ]);
});

test("a run whose owner died while it was running is recorded as ended (crashed) and continued", async () => {
  const o = setup();
  const first = await runCli(RUN, o);
  expect(first.code).toBe(EXIT_BUDGET_STOPPED);
  const oldId = /bottle resume (\S+)/.exec(first.stderr)![1]!;
  // What a crash leaves behind: the row still says running, and its owner's pid is gone.
  const dead = Bun.spawn(["true"]);
  await dead.exited;
  const db = await ledger(o);
  await db.updateTable("runs").set({ state: "running", pid: dead.pid, ended_at: null, stop_reason: null }).where("id", "=", oldId).execute();

  sim.requests.length = 0;
  sim.set({ toolUse: undefined });
  const resumed = await runCli(["resume", oldId, "--headless", "--prompt", "Go on. MARKER-resume"], o);
  expect(resumed.code).toBe(0);
  expect(resumed.stderr).toContain(`run ${oldId} had no live owner`);
  const old = await db.selectFrom("runs").select(["state", "stop_reason"]).where("id", "=", oldId).executeTakeFirstOrThrow();
  expect(old).toEqual({ state: "ended", stop_reason: "crashed" });
  expect(JSON.stringify(generations()[0]!.messages)).toContain("MARKER-first-prompt");
});

test("resume refuses what it cannot do, before anything starts", async () => {
  const o = setup();
  const unknown = await runCli(["resume", "no-such-run", "--headless", "--prompt", "x"], o);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toContain(`no run "no-such-run" in the ledger`);
  const noId = await runCli(["resume"], o);
  expect(noId.code).toBe(2);
  expect(noId.stderr).toContain('bottle resume RUN-ID --headless --prompt "…"');
  const noTty = await runCli(["resume", "some-run"], o);
  expect(noTty.code).toBe(2);
  expect(noTty.stderr).toContain('bottle resume some-run --headless --prompt "…"');
});
