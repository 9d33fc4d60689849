/**
 * A run whose process dies gets its record at the next start. The real Claude Code runs in a sandbox
 * bottle against the simulator, whose answers are slowed so the run is caught mid-request; the bottle
 * process is SIGKILLed (no cleanup of any kind runs). The next `bottle run` finds the run's record
 * missing and writes it: marked crashed and recorded at the next start, with exactly the usage the ledger
 * holds, and it verifies.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LedgerDb } from "../../src/ledger/index.ts";
import type { SignedRecord } from "../../src/provenance/index.ts";
import { startSimulator, type Simulator } from "../../src/simulator/server.ts";
import { AGENTS_BIN } from "../helpers/agent-suite.ts";
import { cliEnv, freshHome, MAIN, runCli } from "../support/cli.ts";
import { gitWorkspace, runRows } from "./helpers.ts";

setDefaultTimeout(180_000);
let sim: Simulator;
const dbs: LedgerDb[] = [];
beforeAll(() => {
  if (!existsSync(join(AGENTS_BIN, "claude"))) throw new Error(`claude is not installed in ${AGENTS_BIN}: run bash scripts/install-agents.sh`);
  sim = startSimulator({ text: "A step.", toolUse: { name: "Bash", input: { command: "echo step", description: "a step" } }, toolTurns: 3 });
});
afterAll(async () => {
  for (const db of dbs) await db.destroy();
  await sim?.close();
});

test("a run killed mid-request gets its record, marked crashed, at the next start", async () => {
  const home = freshHome();
  mkdirSync(join(home, "bottles"));
  writeFileSync(join(home, "bottles", "slow.md"), `---\negress:\n  routes:\n    - host: api.anthropic.com\n      upstream: ${sim.url}\n  log: full\n---\n`);
  const ws = gitWorkspace();
  const env = cliEnv({ home, env: { PATH: `${AGENTS_BIN}:${process.env.PATH}` } });
  const proc = Bun.spawn(["bun", MAIN, "run", "claude", "--headless", "--prompt", "Take steps.", "--bottle", "slow", "--backend", "sandbox"], { cwd: ws, env, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  try {
    // Wait until a second generation is on its way (the first was answered and metered), then kill.
    for (let i = 0; i < 1200 && sim.generations < 1; i++) await Bun.sleep(50);
    sim.set({ chunkDelayMs: 60_000 });
    const seen = sim.requests.length;
    for (let i = 0; i < 1200 && sim.requests.length === seen; i++) await Bun.sleep(50);
    expect(sim.requests.length).toBeGreaterThan(seen);
  } finally {
    proc.kill("SIGKILL");
    await proc.exited;
    sim.set({ chunkDelayMs: 0 });
  }
  const pending = readdirSync(join(home, "provenance-pending"));
  expect(pending.length).toBe(1);
  const runId = pending[0]!;
  expect(existsSync(join(home, "runs", runId, "provenance.json"))).toBe(false);

  // The next start: another run (it finishes on its own).
  const next = await runCli(["run", "claude", "--headless", "--prompt", "Say hello.", "--simulate", "--backend", "sandbox"], { home, cwd: ws, env: { PATH: `${AGENTS_BIN}:${process.env.PATH}` }, timeoutMs: 150_000 });
  expect(next.code).toBe(0);
  expect(next.stderr).toContain(`bottle: run ${runId} ended without its provenance record (its process died); recorded now`);
  const s = JSON.parse(readFileSync(join(home, "runs", runId, "provenance.json"), "utf8")) as SignedRecord;
  expect(s.record.run).toMatchObject({ id: runId, state: "crashed", stopReason: "crashed", recordedBy: "next-start" });
  const rows = await runRows(home, runId);
  dbs.push(rows.db);
  expect(new Map(s.record.models.map((m) => [`${m.provider}/${m.model}`, { requests: m.requests, input: m.inputTokens, output: m.outputTokens, total: m.totalTokens }]))).toEqual(rows.usageByModel);
  expect(s.record.usage.requests).toBeGreaterThanOrEqual(1);
  // The ledger's own recovery ran first at that start: its crash action is in the record.
  expect(s.record.enforcement.map((a) => `${a.kind}/${a.trigger}`)).toContain("crash/startup");
  expect(readdirSync(join(home, "provenance-pending"))).toEqual([]);
  const v = await runCli(["report", "verify", join(home, "runs", runId, "provenance.json")], { home });
  expect(v.code).toBe(0);
});
