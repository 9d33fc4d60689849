/**
 * `bottle proxy` records into the ledger: the session is a registered run, curl's metered request through
 * it is a usage row under that run (with the simulator's tokens), the denied CONNECT is in the audit log,
 * and SIGTERM ends the run. `bottle budget usage` then reports the same tokens.
 */
import { afterEach, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { proxyReady } from "../support/bottle-proxy.ts";
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

async function startProxy(extra: string[] = []) {
  const home = mkdtempSync(join(process.env.TMPDIR!, "proxy-home-"));
  const env = { ...process.env, BOTTLE_HOME: home, NO_COLOR: "1", TZ: "UTC" };
  const p = Bun.spawn(["bun", MAIN, "proxy", "--simulate", "--provider", "claude", "--json", ...extra], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  proc = p;
  const { runId, env: px } = await proxyReady(p);
  return { home, env, runId, px, proc: p };
}

const MESSAGE = JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 50, stream: true, messages: [{ role: "user", content: "hi" }] });

test("bottle proxy + curl → a usage row under the session's run; SIGTERM ends the run", async () => {
  const { home, env, runId, px, proc } = await startProxy();
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

test("bottle proxy --budget cuts the session off after the request that crosses it, with a refusal no client retries", async () => {
  const { home, runId, px, proc } = await startProxy(["--budget", "50"]);
  const send = () => curl(["-s", "-o", "/dev/stderr", "-w", "%{http_code}", "-D", "-", "--proxy", px.HTTPS_PROXY!, "--cacert", px.SSL_CERT_FILE!, "-H", "content-type: application/json", "-d", MESSAGE, "https://api.anthropic.com/v1/messages"]);
  // 37 tokens each: the first leaves room, the second crosses 50 (post-hoc, it completes), the third is refused.
  const statuses: string[] = [];
  let refusal = "";
  for (let i = 0; i < 3; i++) {
    const r = await send();
    statuses.push(r.stdout.trim().split("\n").at(-1)!);
    if (i === 2) refusal = r.stdout.toLowerCase();
  }
  expect(statuses.slice(0, 2)).toEqual(["200", "200"]);
  expect(["402", "429"]).toContain(statuses[2]!);
  if (statuses[2] === "429") expect(refusal).toContain("x-should-retry: false");
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
  const db = await openLedger({ path: join(home, "bottle.db") });
  try {
    const used = await db.selectFrom("usage_events").select(["total_tokens"]).where("run_id", "=", runId).execute();
    expect(used.map((u) => u.total_tokens)).toEqual([37, 37]);
    const actions = await db.selectFrom("enforcement_actions").select(["kind", "trigger", "used", "limit_tokens"]).where("run_id", "=", runId).execute();
    expect(actions).toEqual([{ kind: "cutoff", trigger: "budget", used: 74, limit_tokens: 50 }]);
  } finally {
    await db.destroy();
  }
});
