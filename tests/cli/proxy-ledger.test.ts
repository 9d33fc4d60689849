/**
 * `bottle proxy` records into the ledger: the session is a registered run, curl's metered request through
 * it is a usage row under that run (with the simulator's tokens), the denied CONNECT is in the audit log,
 * and SIGTERM ends the run. `bottle budget usage` then reports the same tokens.
 */
import { afterEach, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { auditOf, getRun, openLedger } from "../../src/ledger/index.ts";
import { curl } from "../support/proxy-fixture.ts";

const MAIN = join(import.meta.dir, "../../src/cli/main.ts");
let proc: Subprocess<"ignore", "pipe", "pipe"> | undefined;
afterEach(() => {
  if (proc && proc.exitCode === null) proc.kill("SIGKILL");
  proc = undefined;
});

test("bottle proxy + curl → a usage row under the session's run; SIGTERM ends the run", async () => {
  const home = mkdtempSync(join(process.env.TMPDIR!, "proxy-home-"));
  const env = { ...process.env, BOTTLE_HOME: home, NO_COLOR: "1", TZ: "UTC" };
  proc = Bun.spawn(["bun", MAIN, "proxy", "--simulate", "--provider", "claude", "--json"], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const reader = proc.stdout.getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("bottle proxy exited before printing its environment");
    line += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const { runId, env: px } = JSON.parse(line) as { runId: string; env: Record<string, string> };
  const body = JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 50, stream: true, messages: [{ role: "user", content: "hi" }] });
  const r = await curl(["--proxy", px.HTTPS_PROXY!, "--cacert", px.SSL_CERT_FILE!, "-H", "content-type: application/json", "-d", body, "https://api.anthropic.com/v1/messages"]);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("message_stop");
  const denied = await curl(["-o", "/dev/null", "-w", "%{http_connect}", "--proxy", px.HTTPS_PROXY!, "https://example.com/"]);
  expect(denied.stdout).toBe("403");
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);

  const db = await openLedger({ path: join(home, "bottle.db") });
  try {
    expect(await getRun(db, runId)).toMatchObject({ id: runId, label: "proxy", agent: "", provider: "claude", state: "ended", exitCode: 0, stopReason: "signal", pid: proc.pid });
    const rows = await db.selectFrom("usage_events").selectAll().where("run_id", "=", runId).execute();
    expect(rows).toMatchObject([{ provider: "claude", model: "claude-sonnet-4-5", host: "api.anthropic.com", path: "/v1/messages", status: 200, input_tokens: 25, output_tokens: 12, total_tokens: 37, estimated: 0 }]);
    expect((await auditOf(db, runId)).map((a) => [a.decision, a.host])).toEqual([["mitm", "api.anthropic.com"], ["deny", "example.com"]]);
  } finally {
    await db.destroy();
  }

  const usage = Bun.spawn(["bun", MAIN, "budget", "usage", "--json"], { env, stdout: "pipe", stderr: "pipe" });
  const report = JSON.parse(await new Response(usage.stdout).text());
  expect(await usage.exited).toBe(0);
  expect(report.rows.map((g: { key: string; totalTokens: number }) => [g.key, g.totalTokens])).toEqual([[runId, 37]]);
});
