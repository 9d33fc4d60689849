/**
 * End to end, from an agent in a sandbox bottle to the ledger and back to the bottle: the real Claude Code
 * CLI loops on tool calls against the simulator; every metered response lands in the ledger's
 * usage_events; the response that crosses a `freeze` budget makes enforcement freeze the bottle through
 * the backend (BackendRunControl): the agent is stopped mid-session, its home is saved, and a resumed
 * bottle has the agent's session files.
 */
import { afterAll, afterEach, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Kysely } from "kysely";
import { BackendRunControl } from "../../src/backends/run-control.ts";
import { SandboxBackend } from "../../src/backends/sandbox/index.ts";
import { readRecord } from "../../src/backends/state.ts";
import type { BottleHandle } from "../../src/backends/types.ts";
import { composeHooks } from "../../src/enforce/compose-hooks.ts";
import { budgetHooks } from "../../src/enforce/hooks.ts";
import { sqlEnforceStore, type EnforceTables } from "../../src/enforce/sql-store.ts";
import type { EgressProxy, RunHandle } from "../../src/proxy/proxy.ts";
import { PROVIDER_TABLE, providerRoutes } from "../../src/providers/index.ts";
import { buildPlan } from "../../src/providers/plan.ts";
import { provisionAgent } from "../../src/providers/provision.ts";
import type { Simulator } from "../../src/simulator/server.ts";
import { AGENTS_BIN } from "../helpers/agent-suite.ts";
import { freshRunId, freshWorkspace } from "../helpers/bottles.ts";
import { addRun, ledgerFile, openTestLedger } from "../support/enforce-db.ts";
import { bottleCa, startTlsSimulator, testProxy } from "../support/proxy-fixture.ts";
import { usageRecorder } from "../support/usage-recorder.ts";

setDefaultTimeout(90_000);

const backend = new SandboxBackend();
let sim: Simulator;
let db: Kysely<EnforceTables>;
let proxy: EgressProxy;
let run: RunHandle | undefined;
const handles: BottleHandle[] = [];

beforeAll(() => {
  if (!existsSync(join(AGENTS_BIN, "claude"))) throw new Error(`claude is not installed in ${AGENTS_BIN}: run bash scripts/install-agents.sh`);
  // Every turn is a tool call, so Claude Code keeps asking until something stops it.
  sim = startTlsSimulator({ text: "Running a command.", toolUse: { name: "Bash", input: { command: "echo step >> steps.txt", description: "record a step" } } });
  db = openTestLedger(ledgerFile());
  proxy = testProxy();
});
afterEach(async () => {
  for (const h of handles.splice(0)) await backend.teardown(h);
  await run?.close();
  run = undefined;
}, 60_000);
afterAll(async () => {
  await proxy?.close();
  await sim?.close();
  await db?.destroy();
});

test("usage from inside the bottle lands in the ledger, and crossing a freeze budget freezes the bottle", async () => {
  const p = PROVIDER_TABLE.claude;
  const runId = freshRunId("freeze");
  await addRun(db, { id: runId, agent: "claude-tester", pid: process.pid });
  const hooks = composeHooks(
    usageRecorder(db),
    budgetHooks({
      store: sqlEnforceStore(db),
      // The simulator reports 37 tokens per turn: the second turn crosses 60.
      plan: { runId, timeZone: "UTC", preflight: "off", budgets: { claude: { provider: "claude", tokens: 60, scope: "run" } } },
      policy: "freeze",
      control: new BackendRunControl(backend),
    }),
  );
  run = await proxy.openRun({ runId, hooks, provider: "claude", routes: providerRoutes(p).map((r) => ({ ...r, upstream: sim.url })) });
  const h = await backend.create(
    buildPlan({ runId, label: "freeze", agent: "claude-tester", provider: "claude", backend: "sandbox", cwd: freshWorkspace(), proxy: { socketPath: run.socketPath, caCertPath: bottleCa().certPath }, hostPath: `${AGENTS_BIN}:${process.env.PATH}` }),
  );
  handles.push(h);
  await provisionAgent(backend, h, p, { skills: [], prompt: "Record steps until told to stop." });

  const r = await backend.provision(h, p.argv({ prompt: "Keep recording steps." }));

  // The freeze stopped the agent mid-loop: killed, not a clean exit.
  expect(r.exitCode).not.toBe(0);
  const usage = await db.selectFrom("usage_events").selectAll().where("run_id", "=", runId).execute();
  expect(usage.length).toBeGreaterThanOrEqual(2);
  expect(usage.every((u) => u.provider === "claude" && u.total_tokens === 37)).toBe(true);
  const actions = await db.selectFrom("enforcement_actions").selectAll().where("run_id", "=", runId).execute();
  expect(actions.map((a) => [a.kind, a.trigger])).toEqual([["freeze", "budget"]]);

  // The agent dies inside freeze (SIGKILL after the snapshot); freeze itself finishes just after.
  for (let i = 0; i < 500 && !readRecord(runId)?.snapshot; i++) await Bun.sleep(20);
  const rec = readRecord(runId)!;
  expect(rec.snapshot?.ref).toBe(join(h.hostHome, "..", "snapshot"));
  const savedProjects = join(rec.snapshot!.ref, "home", ".claude", "projects");
  expect(readdirSync(savedProjects).length).toBeGreaterThan(0);
  expect((await backend.list()).find((b) => b.runId === runId)?.state).toBe("frozen");

  // Resume: a fresh bottle with the saved home (the session Claude Code would --continue).
  const resumed = await backend.resume(rec.snapshot!, { proxySocket: run.socketPath });
  handles.push(resumed);
  const ls = await backend.provision(resumed, ["ls", "/home/bottle/.claude/projects"]);
  expect(ls.stdout.trim()).not.toBe("");
});
