/**
 * `bottle proxy` + real curl over the path matrix of both metered API hosts: Messages, legacy Completions,
 * Embeddings and Chat are metered exactly from their own usage (ledger rows with the simulator's numbers);
 * batch submission, file uploads and Anthropic's legacy `/v1/complete` (which reports no usage) are refused
 * with a 403 that names the path and the route key that would allow it, are audited, and never reach the
 * upstream; reads (model lists, batch results) go through. `bottle logs` shows the refusals.
 */
import { afterEach, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { proxyReady } from "../support/bottle-proxy.ts";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { auditOf, openLedger } from "../../src/ledger/index.ts";
import { curl } from "../support/proxy-fixture.ts";

const MAIN = join(import.meta.dir, "../../src/cli/main.ts");
let proc: Subprocess<"ignore", "pipe", "pipe"> | undefined;
afterEach(() => {
  if (proc && proc.exitCode === null) proc.kill("SIGKILL");
  proc = undefined;
});

async function startProxy() {
  const home = mkdtempSync(join(process.env.TMPDIR!, "proxy-paths-"));
  const env = { ...process.env, BOTTLE_HOME: home, NO_COLOR: "1", TZ: "UTC" };
  const p = Bun.spawn(["bun", MAIN, "proxy", "--simulate", "--json"], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  proc = p;
  const { runId, env: px } = await proxyReady(p);
  return { home, env, runId, px, proc: p };
}

test("bottle proxy meters every billable endpoint exactly and refuses what it cannot meter", async () => {
  const { home, env, runId, px, proc } = await startProxy();
  const send = async (method: string, url: string, body?: unknown) => {
    const args = ["-o", "-", "-w", "\n%{http_code}", "-X", method, "--proxy", px.HTTPS_PROXY!, "--cacert", px.SSL_CERT_FILE!, "-H", "content-type: application/json"];
    if (body !== undefined) args.push("-d", JSON.stringify(body));
    const r = await curl([...args, url]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    return { status: Number(lines.at(-1)), body: lines.slice(0, -1).join("\n") };
  };
  const A = "https://api.anthropic.com";
  const O = "https://api.openai.com";
  const msg = { model: "claude-sonnet-4-5", max_tokens: 50, messages: [{ role: "user", content: "hi" }] };

  // Metered, each from its own usage fields (the simulator reports 25 in, 12 out).
  expect((await send("POST", `${A}/v1/messages`, msg)).status).toBe(200);
  expect((await send("POST", `${O}/v1/completions`, { model: "gpt-3.5-turbo-instruct", prompt: "hi" })).status).toBe(200);
  const streamed = await send("POST", `${O}/v1/completions`, { model: "gpt-3.5-turbo-instruct", prompt: "hi", stream: true });
  expect(streamed.status).toBe(200);
  expect(streamed.body).not.toContain('"usage"'); // bottle's include_usage never reaches a client that did not ask
  expect((await send("POST", `${O}/v1/embeddings`, { model: "text-embedding-3-small", input: "hi" })).status).toBe(200);

  // Refused before anything is sent: batches, uploads, the legacy endpoint without usage, dot-segment tricks.
  const refused: [string, string][] = [
    [`${A}/v1/messages/batches`, "/v1/messages/batches"],
    [`${A}/v1/complete`, "/v1/complete"],
    [`${O}/v1/batches`, "/v1/batches"],
    [`${O}/v1/files`, "/v1/files"],
    [`${O}/v1/x/..%2F..%2Fbatches`, ""],
  ];
  for (const [url, path] of refused) {
    const r = await send("POST", url, { requests: [] });
    expect(r.status).toBe(403);
    expect(r.body).toContain("bottle:");
    if (path) expect(r.body).toContain(`unmetered: [\\"${path}\\"]`);
  }
  // Reads go through to the upstream (the simulator answers 404 for paths it does not serve).
  expect((await send("GET", `${O}/v1/models`)).status).toBe(404);
  expect((await send("GET", `${A}/v1/messages/batches/msgbatch_1/results`)).status).toBe(404);

  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
  const db = await openLedger({ path: join(home, "bottle.db") });
  try {
    const rows = await db.selectFrom("usage_events").select(["path", "kind", "total_tokens", "input_tokens", "output_tokens", "estimated"]).where("run_id", "=", runId).orderBy("id").execute();
    expect(rows).toEqual([
      { path: "/v1/messages", kind: "usage", total_tokens: 37, input_tokens: 25, output_tokens: 12, estimated: 0 },
      { path: "/v1/completions", kind: "usage", total_tokens: 37, input_tokens: 25, output_tokens: 12, estimated: 0 },
      { path: "/v1/completions", kind: "usage", total_tokens: 37, input_tokens: 25, output_tokens: 12, estimated: 0 },
      { path: "/v1/embeddings", kind: "usage", total_tokens: 25, input_tokens: 25, output_tokens: 0, estimated: 0 },
    ]);
    const audit = (await auditOf(db, runId)).filter((a) => a.decision === "refuse");
    expect(audit.map((a) => [a.status, a.path])).toEqual(refused.map(([url]) => [403, new URL(url).pathname]));
    expect(audit[0]!.reason).toContain('add unmetered: ["/v1/messages/batches"] to the egress route for api.anthropic.com');
  } finally {
    await db.destroy();
  }
  const logs = Bun.spawn(["bun", MAIN, "logs", runId], { env, stdout: "pipe", stderr: "pipe" });
  const text = await new Response(logs.stdout).text();
  expect(await logs.exited).toBe(0);
  expect(text).toMatch(/POST\s+403\s+refuse .*api\.anthropic\.com\/v1\/messages\/batches .*cannot be metered/);
}, 60_000);
