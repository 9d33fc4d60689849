/**
 * One key per budget, end to end: for each of claude, codex and pi, a global budget written under the
 * agent's own provider name (`pi: 50`) cuts off a real headless run of that agent's CLI in a sandbox
 * bottle (the simulated provider answers with tool calls, 37 tokens a request, so the second request
 * crosses 50 and the third is refused). Every usage row is recorded under that same key. Before, pi's
 * traffic to Anthropic's API was counted as `claude`, so a `pi` budget was shown but never enforced.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openLedger, type LedgerDb } from "../../src/ledger/index.ts";
import { EXIT_BUDGET_STOPPED } from "../../src/launch/types.ts";
import { AGENTS_BIN } from "../helpers/agent-suite.ts";
import { freshWorkspace } from "../helpers/bottles.ts";
import { freshHome, runCli } from "../support/cli.ts";

setDefaultTimeout(150_000);
const dbs: LedgerDb[] = [];
afterAll(async () => {
  for (const db of dbs) await db.destroy();
});

for (const provider of ["claude", "codex", "pi"] as const) {
  test(`a ${provider} run under a global ${provider} budget is cut off, and its usage is counted under ${provider}`, async () => {
    const home = freshHome();
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, "settings.yml"), `budget:\n  ${provider}: 50\n`);
    const r = await runCli(["run", provider, "--headless", "--prompt", "Do the steps.", "--simulate", "--backend", "sandbox"], {
      home,
      cwd: freshWorkspace(),
      env: { PATH: `${AGENTS_BIN}:${process.env.PATH}` },
      timeoutMs: 120_000,
    });
    expect(r.timedOut).toBe(false);
    if (r.code !== EXIT_BUDGET_STOPPED) throw new Error(`${provider} exited ${r.code}\n${r.stderr}`);
    expect(r.stderr).toContain("global budget");
    expect(r.stderr).toContain(`of 50 ${provider} tokens used`);
    const runId = /bottle resume (\S+)/.exec(r.stderr)?.[1] ?? /run (\S+) was cut off/.exec(r.stderr)![1]!;
    const db = await openLedger({ path: join(home, "bottle.db") });
    dbs.push(db);
    const rows = await db.selectFrom("usage_events").select(["provider", "total_tokens"]).where("run_id", "=", runId).execute();
    expect(rows.length).toBe(2);
    expect(rows.every((u) => u.provider === provider)).toBe(true);
  });
}
