/**
 * A `bottle proxy` session is a run, so it leaves the same signed provenance record as one: a real
 * `bottle proxy --simulate` process, real curl through it (a metered request, a denied CONNECT), then
 * SIGTERM or SIGINT. The record's usage is exactly the ledger's rows, its egress exactly the audit log, it
 * says what a session is (no agent, no bottle, no workspace), `bottle report` reads it, `bottle report
 * verify` passes, and a changed byte fails it. A session whose process is SIGKILLed gets its record, marked
 * crashed, when the next session starts.
 */
import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import type { Subprocess } from "bun";
import { proxyReady } from "../support/bottle-proxy.ts";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { openLedger } from "../../src/ledger/index.ts";
import type { SignedRecord } from "../../src/provenance/index.ts";
import { runRows } from "../provenance/helpers.ts";
import { cliEnv, freshHome, MAIN, runCli } from "../support/cli.ts";
import { curl } from "../support/proxy-fixture.ts";

setDefaultTimeout(60_000);
const procs: Array<Subprocess<"ignore", "pipe", "pipe">> = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null) p.kill("SIGKILL");
});

async function startProxy(home: string, extra: string[] = []) {
  const p = Bun.spawn(["bun", MAIN, "proxy", "--simulate", "--provider", "claude", "--json", ...extra], { env: cliEnv({ home }), cwd: process.env.TMPDIR!, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  procs.push(p);
  const { runId, env: px } = await proxyReady(p);
  return { runId, px, proc: p };
}

const MESSAGE = JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 50, stream: true, messages: [{ role: "user", content: "hi" }] });
const send = (px: Record<string, string>) =>
  curl(["-o", "/dev/null", "-w", "%{http_code}", "--proxy", px.HTTPS_PROXY!, "--cacert", px.SSL_CERT_FILE!, "-H", "content-type: application/json", "-d", MESSAGE, "https://api.anthropic.com/v1/messages"]);
const denied = (px: Record<string, string>) => curl(["-o", "/dev/null", "-w", "%{http_connect}", "--proxy", px.HTTPS_PROXY!, "https://example.com/"]);

/** The record's usage and egress against the ledger file's own rows (plain SQL). */
async function expectMatchesLedger(home: string, s: SignedRecord): Promise<void> {
  const rows = await runRows(home, s.record.run.id);
  try {
    const audit = await rows.db.selectFrom("egress_audit").selectAll().where("run_id", "=", s.record.run.id).execute();
    const usage = await rows.db.selectFrom("usage_events").selectAll().where("run_id", "=", s.record.run.id).execute();
    expect(usage.length).toBeGreaterThan(0);
    expect(s.record.models.map((m) => [`${m.provider}/${m.model}`, { requests: m.requests, input: m.inputTokens, output: m.outputTokens, total: m.totalTokens }])).toEqual([...rows.usageByModel.entries()]);
    expect(s.record.usage.totalTokens).toBe(usage.reduce((n, u) => n + u.total_tokens, 0));
    expect(s.record.egress.hosts.map((h) => h.host)).toEqual(rows.hosts);
    for (const h of s.record.egress.hosts) {
      const of = audit.filter((a) => a.host === h.host);
      expect([h.requests, h.bytesUp, h.bytesDown]).toEqual([of.length, of.reduce((n, a) => n + a.bytes_up, 0), of.reduce((n, a) => n + a.bytes_down, 0)]);
    }
    expect(s.record.egress.denials.flatMap(({ count, ...d }) => Array.from({ length: count }, () => d))).toEqual(rows.denials);
    expect(s.record.ledger).toMatchObject({ usageEvents: usage.length, auditRecords: audit.length });
  } finally {
    await rows.db.destroy();
  }
}

test("SIGTERM: the session's record is written, named on stderr, matches the ledger and the audit log, reads and verifies; a changed byte fails", async () => {
  const home = freshHome();
  const { runId, px, proc } = await startProxy(home);
  expect((await send(px)).stdout).toBe("200");
  expect((await denied(px)).stdout).toBe("403");
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
  const stderr = await new Response(proc.stderr).text();

  const path = join(home, "runs", runId, "provenance.json");
  expect(stderr).toContain(`bottle: provenance record ${path} (sha256:`);
  expect(stderr).toContain(`show it with \`bottle report ${runId}\``);
  expect(existsSync(join(home, "provenance-pending", runId))).toBe(false);
  const text = readFileSync(path, "utf8");
  const s = JSON.parse(text) as SignedRecord;
  expect(s.record.run).toMatchObject({ id: runId, label: "proxy", host: hostname(), backend: "proxy", simulated: true, state: "ended", exitCode: 0, stopReason: "signal", recordedBy: "run-end" });
  expect(s.record.agent).toBeNull();
  expect(s.record.workspace).toBeNull();
  expect(s.record.prompt).toEqual({ sha256: null, text: null, included: false });
  expect(s.record.bottles).toMatchObject({ requested: [], chain: [], egressLog: "full", secrets: [] });
  expect(s.record.bottles.routes.find((r) => r.host === "api.anthropic.com")).toEqual({ host: "api.anthropic.com", mitm: true, upstream: "simulator", secret: null });
  expect(s.record.budgets.shutdown.policy).toBe("cutoff");
  expect(s.record.models).toMatchObject([{ provider: "claude", model: "claude-sonnet-4-5", requests: 1, inputTokens: 25, outputTokens: 12, totalTokens: 37 }]);
  expect(s.record.egress.denials).toMatchObject([{ host: "example.com", decision: "deny", count: 1 }]);
  await expectMatchesLedger(home, s);

  const shown = await runCli(["report", runId], { home });
  expect(shown.code).toBe(0);
  expect(shown.stdout).toContain("bottle proxy session, no bottle, simulated provider");
  expect(shown.stdout).toContain("agent      none known (a bottle proxy session: bottle did not start its client)");
  expect(shown.stdout).toContain("workspace  none (a bottle proxy session gives its clients no workspace)");
  expect(shown.stdout).toContain("spent      37 tokens in 1 request");
  expect(shown.stdout).toContain("deny CONNECT example.com");
  const md = await runCli(["report", "proxy", "--md"], { home });
  expect(md.code).toBe(0);
  expect(md.stdout).toStartWith(`### bottle proxy session \`${runId}\` (simulated provider)`);
  expect(md.stdout).toContain("None: a `bottle proxy` session gives its clients no workspace");
  const json = await runCli(["report", runId, "--json"], { home });
  expect(json.stdout).toBe(text);

  const ok = await runCli(["report", "verify", path], { home });
  expect(ok.stderr).toBe("");
  expect(ok.code).toBe(0);
  expect(ok.stdout).toContain(`is run ${runId}'s record sha256:`);
  expect(ok.stdout).toContain(`✓ ledger rows (1 usage, 2 audit, 0 actions)`);

  // One changed byte: in the usage (the ledger check and the signature both catch it), in the signature.
  const copy = join(home, "changed.json");
  const i = text.indexOf('"totalTokens":37');
  expect(i).toBeGreaterThan(0);
  writeFileSync(copy, `${text.slice(0, i)}"totalTokens":38${text.slice(i + '"totalTokens":37'.length)}`);
  const bad = await runCli(["report", "verify", copy], { home });
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain("FAIL: the signature does not match the record: the record was changed after it was signed");
  expect(bad.stderr).toContain(`FAIL: the record's models differs from the ledger's rows for run ${runId}`);
  const sig = text.indexOf('"value":"') + '"value":"'.length + 10;
  writeFileSync(copy, `${text.slice(0, sig)}${text[sig] === "A" ? "B" : "A"}${text.slice(sig + 1)}`);
  const badSig = await runCli(["report", "verify", copy, "--no-ledger"], { home });
  expect(badSig.code).toBe(1);
  expect(badSig.stderr).toContain("FAIL: the signature does not match the record");
  copyFileSync(path, copy);
  expect((await runCli(["report", "verify", copy], { home })).code).toBe(0);
});

test("SIGINT after a budget cut the session off: the record has the cutoff and the refused request, and verifies", async () => {
  const home = freshHome();
  const { runId, px, proc } = await startProxy(home, ["--budget", "50"]);
  // 37 tokens each: the first leaves room, the second crosses 50 (post-hoc, it completes), the third is refused.
  const statuses = [(await send(px)).stdout, (await send(px)).stdout, (await send(px)).stdout];
  expect(statuses.slice(0, 2)).toEqual(["200", "200"]);
  expect(["402", "429"]).toContain(statuses[2]!);
  proc.kill("SIGINT");
  expect(await proc.exited).toBe(0);
  const path = join(home, "runs", runId, "provenance.json");
  expect(await new Response(proc.stderr).text()).toContain(`bottle: provenance record ${path}`);
  const s = JSON.parse(readFileSync(path, "utf8")) as SignedRecord;
  expect(s.record.budgets.governing).toEqual([{ provider: "claude", tokens: 50, per: null, scope: "run", name: null, file: null }]);
  expect(s.record.enforcement.map((a) => [a.kind, a.trigger, a.used, a.limit])).toEqual([["cutoff", "budget", 74, 50]]);
  expect(s.record.usage).toMatchObject({ requests: 2, totalTokens: 74 });
  await expectMatchesLedger(home, s);
  const shown = await runCli(["report", runId], { home });
  expect(shown.stdout).toContain("outcome    cut off by its budget: run budget (--budget): 74 of 50 claude tokens\n");
  const ok = await runCli(["report", "verify", path], { home });
  expect(ok.code).toBe(0);
  expect(ok.stdout).toContain("✓ ledger rows (2 usage,");
});

test("a session whose process is SIGKILLed gets its record, marked crashed, when the next session starts", async () => {
  const home = freshHome();
  const first = await startProxy(home);
  expect((await send(first.px)).stdout).toBe("200");
  // The usage row is written after the response: wait (bounded) until the ledger has it, then kill.
  const db = await openLedger({ path: join(home, "bottle.db") });
  try {
    let n = 0;
    for (let i = 0; i < 400 && n === 0; i++) {
      n = (await db.selectFrom("usage_events").select("id").where("run_id", "=", first.runId).execute()).length;
      if (n === 0) await Bun.sleep(25);
    }
    expect(n).toBe(1);
  } finally {
    await db.destroy();
  }
  first.proc.kill("SIGKILL");
  await first.proc.exited;
  const path = join(home, "runs", first.runId, "provenance.json");
  expect(existsSync(path)).toBe(false);
  expect(existsSync(join(home, "provenance-pending", first.runId))).toBe(true);

  const next = await startProxy(home);
  next.proc.kill("SIGTERM");
  expect(await next.proc.exited).toBe(0);
  const stderr = await new Response(next.proc.stderr).text();
  expect(stderr).toContain(`bottle: run ${first.runId} ended without its provenance record (its process died); recorded now: ${path}`);
  const s = JSON.parse(readFileSync(path, "utf8")) as SignedRecord;
  expect(s.record.run).toMatchObject({ id: first.runId, backend: "proxy", state: "crashed", stopReason: "crashed", recordedBy: "next-start" });
  await expectMatchesLedger(home, s);
  expect((await runCli(["report", first.runId], { home })).stdout).toContain("outcome    crashed (recorded at the next start)");
  const ok = await runCli(["report", "verify", path], { home });
  expect(ok.code).toBe(0);
  // The next session has its own record, with nothing of the first.
  const own = JSON.parse(readFileSync(join(home, "runs", next.runId, "provenance.json"), "utf8")) as SignedRecord;
  expect(own.record.usage.totalTokens).toBe(0);
});

test("a session that cannot open its listener (its port is taken) ends its run as an error with a record, instead of leaving it running", async () => {
  const home = freshHome();
  const { createServer } = await import("node:net");
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, "127.0.0.1", () => r()));
  try {
    const port = (taken.address() as { port: number }).port;
    const r = await runCli(["proxy", "--simulate", "--provider", "claude", "--port", String(port)], { home });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${port}`);
    const m = /bottle: provenance record (\S+) \(sha256:/.exec(r.stderr);
    expect(m).not.toBeNull();
    const s = JSON.parse(readFileSync(m![1]!, "utf8")) as SignedRecord;
    expect(s.record.run).toMatchObject({ backend: "proxy", state: "ended", exitCode: null, stopReason: "error", recordedBy: "run-end" });
    expect(existsSync(join(home, "provenance-pending", s.record.run.id))).toBe(false);
    const ok = await runCli(["report", "verify", m![1]!], { home });
    expect(ok.code).toBe(0);
  } finally {
    taken.close();
  }
});
