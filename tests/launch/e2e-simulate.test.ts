/**
 * `--simulate`, the quick start's path: the real Claude Code CLI in a sandbox bottle talks to bottle's
 * built-in simulated provider (started and stopped by the run itself, nothing to set up, no API key).
 * The simulated model asks for three tool turns and then answers, so a run without a budget makes four
 * metered requests and ends with the agent's own exit code 0; with a budget smaller than two requests
 * it is cut off and exits 75. stdin is an open pipe that never delivers anything: a headless run must
 * finish anyway.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { openLedger, type LedgerDb } from "../../src/ledger/index.ts";
import { SIMULATED_REPLY, SIMULATED_TOOL_TURNS } from "../../src/launch/simulated.ts";
import { EXIT_BUDGET_STOPPED } from "../../src/launch/types.ts";
import { AGENTS_BIN } from "../helpers/agent-suite.ts";
import { freshWorkspace } from "../helpers/bottles.ts";
import { freshHome, runCli, type CliOptions } from "../support/cli.ts";
import { liveBottle, type LiveBottle } from "../support/live-bottle.ts";

setDefaultTimeout(150_000);
const dbs: LedgerDb[] = [];
const others: LiveBottle[] = [];
afterAll(async () => {
  for (const o of others) o.kill();
  for (const db of dbs) await db.destroy();
});

function opts(): CliOptions {
  return { home: freshHome(), cwd: freshWorkspace(), env: { PATH: `${AGENTS_BIN}:${process.env.PATH}` }, timeoutMs: 120_000, stdin: "silent" };
}

async function usage(o: CliOptions, runId: string): Promise<number[]> {
  const db = await openLedger({ path: join(o.home!, "bottle.db") });
  dbs.push(db);
  return (await db.selectFrom("usage_events").select("total_tokens").where("run_id", "=", runId).orderBy("id").execute()).map((u) => u.total_tokens);
}

test("without a budget the simulated run finishes on its own: three tool turns and an answer, all metered", async () => {
  const o = opts();
  // A bottle labelled claude is running: this run becomes claude-2, and says so.
  others.push(liveBottle(o.home!, "other-run", "claude"));
  const r = await runCli(["run", "claude", "--headless", "--prompt", "Say hello.", "--simulate", "--backend", "sandbox"], o);
  expect(r.timedOut).toBe(false);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain(SIMULATED_REPLY);
  expect(r.stderr).toContain("uses the SIMULATED provider");
  expect(r.stderr).toContain("label claude is in use; this run is claude-2");
  const runId = /bottle resume (\S+)/.exec(r.stderr)![1]!;
  expect(await usage(o, runId)).toEqual(Array(SIMULATED_TOOL_TURNS + 1).fill(37));
  expect(r.stderr).toContain(`bottle: run ${runId}: 4 metered requests, 148 tokens (100 in, 48 out)`);
  // Headless, each metered request gets a line with the running total as it happens.
  const metered = r.stderr.split("\n").filter((l) => l.includes("metered: POST api.anthropic.com/v1/messages"));
  expect(metered.map((l) => /run total (\d+)/.exec(l)?.[1])).toEqual(["37", "74", "111", "148"]);
  const db = dbs[dbs.length - 1]!;
  expect((await db.selectFrom("runs").select("label").where("id", "=", runId).executeTakeFirstOrThrow()).label).toBe("claude-2");
});

test("with a budget smaller than two requests the simulated run is cut off and exits 75", async () => {
  const o = opts();
  const r = await runCli(["run", "claude", "--headless", "--prompt", "Say hello.", "--simulate", "--backend", "sandbox", "--budget", "50"], o);
  expect(r.timedOut).toBe(false);
  expect(r.code).toBe(EXIT_BUDGET_STOPPED);
  const runId = /bottle resume (\S+)/.exec(r.stderr)![1]!;
  expect(await usage(o, runId)).toEqual([37, 37]);
  expect(r.stderr).toContain(`bottle: run ${runId} was cut off by its budget: run budget (--budget): 74 of 50 claude tokens used`);
});
