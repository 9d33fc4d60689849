/**
 * A run frozen by its budget has a record when it is frozen (state frozen, the freeze action), and a new
 * one when it ends after `bottle resume` under the same id: covering both stretches of the run — every
 * usage row and action the ledger holds for it — verifying, and published by the resume as by a run
 * (`--report`, the step summary). Real Claude Code in a sandbox bottle against the simulator.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EXIT_BUDGET_STOPPED } from "../../src/launch/types.ts";
import type { LedgerDb } from "../../src/ledger/index.ts";
import type { SignedRecord } from "../../src/provenance/index.ts";
import { startSimulator, type Simulator } from "../../src/simulator/server.ts";
import { AGENTS_BIN } from "../helpers/agent-suite.ts";
import { freshHome, runCli } from "../support/cli.ts";
import { gitWorkspace, runRows } from "./helpers.ts";

setDefaultTimeout(240_000);
const LOOP = { name: "Bash", input: { command: "echo step >> steps.txt", description: "record a step" } };
let sim: Simulator;
const dbs: LedgerDb[] = [];
beforeAll(() => {
  if (!existsSync(join(AGENTS_BIN, "claude"))) throw new Error(`claude is not installed in ${AGENTS_BIN}: run bash scripts/install-agents.sh`);
  sim = startSimulator({ text: "Recording a step.", toolUse: LOOP });
});
afterAll(async () => {
  for (const db of dbs) await db.destroy();
  await sim?.close();
});

const recordOf = (home: string, runId: string) => JSON.parse(readFileSync(join(home, "runs", runId, "provenance.json"), "utf8")) as SignedRecord;

test("a frozen run's record says frozen; after resume its record covers the whole run and is published", async () => {
  const home = freshHome();
  mkdirSync(join(home, "bottles"));
  writeFileSync(join(home, "bottles", "fake-anthropic.md"), `---\negress:\n  routes:\n    - host: api.anthropic.com\n      upstream: ${sim.url}\n---\n`);
  const o = { home, cwd: gitWorkspace(), env: { PATH: `${AGENTS_BIN}:${process.env.PATH}` }, timeoutMs: 150_000 };
  const first = await runCli(["run", "claude", "--headless", "--prompt", "Record steps.", "--bottle", "fake-anthropic", "--backend", "sandbox", "--budget", "50", "--shutdown", "freeze"], o);
  expect(first.code).toBe(EXIT_BUDGET_STOPPED);
  const runId = /bottle resume (\S+)/.exec(first.stderr)![1]!;
  const frozen = recordOf(home, runId);
  expect(frozen.record.run).toMatchObject({ state: "frozen", recordedBy: "run-end" });
  expect(frozen.record.enforcement.map((a) => a.kind)).toEqual(["freeze"]);
  expect((await runCli(["report", "verify", join(home, "runs", runId, "provenance.json")], { home })).code).toBe(0);
  const out = mkdtempSync(join(process.env.TMPDIR!, "ci-"));
  writeFileSync(join(out, "frozen.json"), readFileSync(join(home, "runs", runId, "provenance.json")));

  sim.set({ toolUse: undefined });
  const summary = join(out, "summary.md");
  writeFileSync(summary, "");
  const resumed = await runCli(["resume", runId, "--headless", "--prompt", "Finish.", "--budget", "100000", "--report", join(out, "record.json")], { ...o, env: { ...o.env, GITHUB_STEP_SUMMARY: summary } });
  expect(resumed.code).toBe(0);
  const ended = recordOf(home, runId);
  expect(ended.record.run).toMatchObject({ id: runId, state: "ended", exitCode: 0, recordedBy: "run-end" });
  expect(ended.record.enforcement.map((a) => `${a.kind}/${a.trigger}`)).toEqual(["freeze/budget", "restore/resume"]);
  const rows = await runRows(home, runId);
  dbs.push(rows.db);
  expect(new Map(ended.record.models.map((m) => [`${m.provider}/${m.model}`, { requests: m.requests, input: m.inputTokens, output: m.outputTokens, total: m.totalTokens }]))).toEqual(rows.usageByModel);
  expect(ended.record.usage.requests).toBeGreaterThan(frozen.record.usage.requests);
  expect(readFileSync(join(out, "record.json"), "utf8")).toBe(readFileSync(join(home, "runs", runId, "provenance.json"), "utf8"));
  expect(readFileSync(summary, "utf8")).toContain(`### bottle run \`${runId}\``);
  expect((await runCli(["report", "verify", join(out, "record.json")], { home })).code).toBe(0);
  // The record made at the freeze still verifies against the ledger: it names the rows it covered, and
  // the rows the resumed stretch added are not among them.
  const old = await runCli(["report", "verify", join(out, "frozen.json")], { home });
  expect(old.code).toBe(0);
  expect(old.stdout).toContain(`✓ ledger rows (${frozen.record.ledger.usageEvents} usage`);
});
