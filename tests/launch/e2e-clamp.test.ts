/**
 * `preflight: clamp` with the real agents: Claude Code, Codex and pi each run to completion against the
 * simulated provider at budgets of 2,000, 20,000 and 200,000 tokens (Claude Code asks 64,000 output tokens
 * on every turn, so the reserving modes would refuse its first request below that), the run's charge stays
 * within its budget, and the simulated demo is clean (no simulator 404s, no tool call the agent does not
 * have). And a pre-flight refusal that ends a run exits 75 with its one-line reason, not the agent's 1.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openLedger, type LedgerDb } from "../../src/ledger/index.ts";
import { SIMULATED_REPLY, SIMULATED_TOOL_TURNS } from "../../src/launch/simulated.ts";
import { EXIT_BUDGET_STOPPED } from "../../src/launch/types.ts";
import { AGENTS_BIN } from "../helpers/agent-suite.ts";
import { freshWorkspace } from "../helpers/bottles.ts";
import { freshHome, runCli, type CliOptions } from "../support/cli.ts";

setDefaultTimeout(200_000);
const dbs: LedgerDb[] = [];
afterAll(async () => {
  for (const db of dbs) await db.destroy();
});

function opts(preflight: string): CliOptions {
  const home = freshHome();
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, "settings.yml"), `preflight: ${preflight}\n`);
  return { home, cwd: freshWorkspace(), env: { PATH: `${AGENTS_BIN}:${process.env.PATH}` }, timeoutMs: 180_000 };
}

async function charged(o: CliOptions, runId: string): Promise<number[]> {
  const db = await openLedger({ path: join(o.home!, "bottle.db") });
  dbs.push(db);
  return (await db.selectFrom("usage_events").select("total_tokens").where("run_id", "=", runId).where("kind", "=", "usage").orderBy("id").execute()).map((u) => u.total_tokens);
}

describe("preflight: clamp, real agents, simulated provider", () => {
  for (const agent of ["claude", "codex", "pi"] as const) {
    for (const budget of [2_000, 20_000, 200_000]) {
      test(`${agent} at --budget ${budget} runs to completion, within its budget`, async () => {
        const o = opts("clamp");
        const r = await runCli(["run", agent, "--headless", "--prompt", "Say hello.", "--simulate", "--backend", "sandbox", "--budget", String(budget)], o);
        expect(r.timedOut).toBe(false);
        expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stderr: "" });
        expect(r.stdout).toContain(SIMULATED_REPLY);
        const runId = /bottle resume (\S+)/.exec(r.stderr)![1]!;
        const usage = await charged(o, runId);
        expect(usage.length).toBe(SIMULATED_TOOL_TURNS + 1);
        expect(usage.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(budget);
        // The demo is clean: everything the agent asks the simulator is answered, and its tool calls run.
        expect(r.stderr).not.toContain("no route for");
        expect(r.stderr).not.toContain("unsupported call");
        expect(r.stderr).not.toContain("egress refuse: POST");
        // Claude Code asks 64,000 output tokens: under the two smaller budgets the cap is lowered to fit.
        if (agent === "claude" && budget < 64_000) expect(r.stderr).toMatch(/output cap lowered from 64000 to \d+ tokens/);
        if (agent === "codex") expect(`${r.stdout}${r.stderr}`).toContain("a step requested by the simulated provider");
      });
    }
  }
});

describe("a pre-flight refusal that ends the run", () => {
  test("preflight: estimate refuses Claude Code's first request under a 20,000 budget (it asks 64,000): exit 75 and the reason", async () => {
    const o = opts("estimate");
    const r = await runCli(["run", "claude", "--headless", "--prompt", "Say hello.", "--simulate", "--backend", "sandbox", "--budget", "20000"], o);
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(EXIT_BUDGET_STOPPED);
    const runId = /bottle resume (\S+)/.exec(r.stderr)![1]!;
    expect(await charged(o, runId)).toEqual([]);
    const line = r.stderr.split("\n").find((l) => l.startsWith(`bottle: run ${runId} ended on a budget refusal:`));
    expect(line).toMatch(/request refused, it could use up to [\d,]+ claude tokens and the run budget \(--budget\) has 20,000 left/);
    expect(line).toMatch(/\(exit 75; the agent exited [1-9]\d*\)$/);
  });
});
