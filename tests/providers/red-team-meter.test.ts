/**
 * The meter red-teamed from inside a real sandbox bottle and a real docker bottle, the way an agent following
 * a prompt injection would: a shell in the bottle sends, with curl through the bottle's proxy, every request
 * that might spend tokens the meter does not see. The routes inject a real key (the built-in bottles'
 * custody) and the fake upstream speaks the providers' wire formats on loopback.
 *
 * Four got through before, and are closed:
 * - a request body compressed with `Content-Encoding` (gzip here, zstd as Codex sends it): the meter could
 *   not read it, so a Chat stream went up without `include_usage` and was only estimated, and a Responses
 *   request could carry anything unseen. The proxy now decodes it before the hooks see it and sends it up
 *   plain, so the stream is metered exactly;
 * - a Responses request with `background: true`: the API answers `queued` with `usage: null` at once and
 *   bills the model's work later, fetched with a plain GET that the meter never charges. It is refused now,
 *   compressed or not.
 * - a request to OpenAI's regional API host (`eu.api.openai.com`) under a route that tunnels the vendor's
 *   other hosts (`*.openai.com`, `mitm: false`) went through the tunnel unmetered. Every subdomain of
 *   `api.openai.com` is a known API host now: always intercepted, metered under the run's provider.
 * - a long prompt sent as a stream, abandoned by the client before the first event (while the upstream is
 *   still reading the prompt, which it bills): recorded as zero tokens. It is charged the input estimate now.
 * The rest fail and stay failing (asserted as refusals): a second request on the same TLS connection to an
 * unmeterable path, dot segments and an encoded slash in the path, a Host header naming another host,
 * HTTP/2 with prior knowledge, a WebSocket upgrade to the Responses or Realtime endpoint, a Realtime client
 * secret, an Assistants run, and an upstream by IP; and,
 * written raw with openssl in the sandbox bottle, a pipelined batch submission behind a metered request and
 * one smuggled inside a request that carries both Content-Length and Transfer-Encoding.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { IMAGE_PATH } from "../../src/backends/docker/args.ts";
import { composeHooks } from "../../src/enforce/compose-hooks.ts";
import { pathPolicyHooks } from "../../src/enforce/path-hooks.ts";
import { auditOf, ledgerHooks, openLedger, registerRun, type LedgerDb, type LedgerHooks } from "../../src/ledger/index.ts";
import type { Route } from "../../src/manifest/types.ts";
import type { EgressProxy, RunHandle } from "../../src/proxy/proxy.ts";
import { estimateTokens } from "../../src/metering/tally.ts";
import { buildPlan } from "../../src/providers/plan.ts";
import type { Simulator } from "../../src/simulator/server.ts";
import { AGENTS_BIN } from "../helpers/agent-suite.ts";
import { freshRunId, freshWorkspace } from "../helpers/bottles.ts";
import { BACKENDS, bottles } from "../isolation/bottles.ts";
import { bottleCa, startTlsSimulator, testProxy } from "../support/proxy-fixture.ts";

setDefaultTimeout(180_000);

const KEY = "sk-real-key-red-team";
const CHAT = { model: "gpt-4o", stream: true, messages: [{ role: "user", content: "hi" }] };
const BACKGROUND = { model: "gpt-5", input: "think for a long time", background: true };

/** The agent's shell: one line per attempt, `name status` (curl's code for the request, or the CONNECT's). */
function script(simPort: number): string {
  const c = `curl -s --cacert "$NODE_EXTRA_CA_CERTS" -H 'content-type: application/json'`;
  const code = (name: string) => `-w '${name} %{http_code}\\n'`;
  return [
    `${c} -o chat.out ${code("gzip-chat")} -H 'content-encoding: gzip' --data-binary @chat.json.gz https://api.openai.com/v1/chat/completions`,
    `${c} -o bg.out ${code("background")} -d '${JSON.stringify(BACKGROUND)}' https://api.openai.com/v1/responses`,
    // What an agent would do next: fetch the finished work with a plain read.
    `r=$(cat bg.out); id=\${r#*'"id":"'}; id=\${id%%'"'*}; case "$id" in resp_*) ${c} -o /dev/null ${code("background-fetch")} "https://api.openai.com/v1/responses/$id" ;; *) echo 'background-fetch none' ;; esac`,
    `${c} -o /dev/null ${code("zstd-background")} -H 'content-encoding: zstd' --data-binary @bg.json.zst https://api.openai.com/v1/responses`,
    // Two requests on one TLS connection: the second is judged on its own.
    `${c} -o /dev/null ${code("same-conn-1")} -d '{"model":"claude-x","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}' https://api.anthropic.com/v1/messages --next -s --cacert "$NODE_EXTRA_CA_CERTS" -o /dev/null ${code("same-conn-2")} -d '{"requests":[]}' https://api.anthropic.com/v1/messages/batches`,
    `${c} -o /dev/null ${code("dot-segments")} --path-as-is -d '{"requests":[]}' 'https://api.anthropic.com/v1/messages/%2e%2e/messages/batches'`,
    `${c} -o /dev/null ${code("encoded-slash")} -d '{"requests":[]}' 'https://api.anthropic.com/v1/messages%2fbatches'`,
    `${c} -o /dev/null ${code("host-mismatch")} -H 'Host: api.openai.com' -d '{"input_file_id":"f","endpoint":"/v1/chat/completions","completion_window":"24h"}' https://api.anthropic.com/v1/batches`,
    `${c} -o /dev/null ${code("h2-prior-knowledge")} --http2-prior-knowledge -d '{"requests":[]}' https://api.anthropic.com/v1/messages/batches`,
    `${c} -o /dev/null ${code("websocket")} -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' https://api.openai.com/v1/responses`,
    // The Realtime and Assistants APIs bill through sessions and runs the meter cannot read.
    `${c} -o /dev/null ${code("realtime-secret")} -d '{"session":{"type":"realtime","model":"gpt-realtime"}}' https://api.openai.com/v1/realtime/client_secrets`,
    `${c} -o /dev/null ${code("realtime-ws")} -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' 'https://api.openai.com/v1/realtime?model=gpt-realtime'`,
    `${c} -o /dev/null ${code("assistants-run")} -d '{"assistant_id":"asst_1","thread":{"messages":[{"role":"user","content":"hi"}]}}' https://api.openai.com/v1/threads/runs`,
    // OpenAI's regional API host, which a route for the vendor's other hosts lets through untouched.
    `curl -s -k -o /dev/null ${code("regional")} -H 'content-type: application/json' -d '{"model":"gpt-5","input":"hi"}' https://eu.api.openai.com/v1/responses`,
    `${c} -o /dev/null --noproxy '' -x "$HTTPS_PROXY" -w 'by-ip %{http_connect}\\n' -d '{"requests":[]}' https://127.0.0.1:${simPort}/v1/messages/batches`,
  ].map((l) => `${l} >> attempts.txt`).join("; ");
}

let sim: Simulator;
let proxy: EgressProxy;
const box = bottles();

beforeAll(() => {
  sim = startTlsSimulator({ text: "Done." });
  proxy = testProxy({ env: { REAL_KEY: KEY } });
});
afterAll(async () => {
  await box.closeAll();
  await proxy.close();
  await sim.close();
});

/** What each attack runs against: a real ledger file, the hooks `bottle run` installs, and the run's proxy. */
async function meteredRun(runId: string, routes: Route[]): Promise<{ db: LedgerDb; ledger: LedgerHooks; run: RunHandle; close(): Promise<void> }> {
  const db = await openLedger({ path: join(freshWorkspace(), "bottle.db") });
  await registerRun(db, { id: runId, label: "red", agent: "claude", provider: "claude" });
  const ledger = ledgerHooks(db, { id: runId, agent: "claude", provider: "claude" });
  const run = await proxy.openRun({ runId, provider: "claude", log: "blocks", hooks: composeHooks(ledger, pathPolicyHooks()), routes });
  return {
    db,
    ledger,
    run,
    async close() {
      await run.close();
      await ledger.close();
      await db.destroy();
    },
  };
}

/** A sandbox or docker bottle's plan for the run, with the agent CLIs on its PATH. */
function redPlan(kind: (typeof BACKENDS)[number], runId: string, ws: string, run: RunHandle) {
  const plan = buildPlan({ runId, label: "red", agent: "claude", provider: "claude", backend: kind, cwd: ws, proxy: { socketPath: run.socketPath, caCertPath: bottleCa().certPath }, hostPath: `${AGENTS_BIN}:${process.env.PATH}` });
  return kind === "docker" ? { ...plan, env: { ...plan.env, PATH: IMAGE_PATH } } : plan;
}

for (const kind of BACKENDS) {
  describe(`${kind} bottle`, () => {
    let red: Awaited<ReturnType<typeof meteredRun>> | undefined;
    afterAll(async () => {
      await red?.close();
    });

    test("compressed bodies are metered exactly, background responses refused, the rest refused as before", async () => {
      sim.requests.length = 0;
      const runId = freshRunId(`red-${kind}`);
      const ws = freshWorkspace();
      writeFileSync(join(ws, "chat.json.gz"), gzipSync(JSON.stringify(CHAT)));
      writeFileSync(join(ws, "bg.json.zst"), zstdCompressSync(JSON.stringify(BACKGROUND)));
      red = await meteredRun(runId, [
        { host: "api.anthropic.com", upstream: sim.url, auth: { header: "x-api-key", env: "REAL_KEY" } },
        { host: "api.openai.com", upstream: sim.url, auth: { header: "authorization", env: "REAL_KEY", prefix: "Bearer " } },
        // A bottle that lets the vendor's other hosts (its CDN, say) through untouched.
        { host: "*.openai.com", mitm: false, upstream: sim.url },
      ]);
      const { db, ledger } = red;
      const h = await box.open(kind, redPlan(kind, runId, ws, red.run));
      const r = await box.run(h, ["sh", "-c", script(sim.port)]);
      await box.closeAll();
      await ledger.flush();
      const attempts = Object.fromEntries(readFileSync(join(ws, "attempts.txt"), "utf8").trim().split("\n").map((l) => l.split(" ")));
      expect(attempts, r.stderr).toEqual({
        "gzip-chat": "200",
        background: "403",
        "background-fetch": "none", // nothing was queued, so there is nothing to fetch
        "zstd-background": "403",
        "same-conn-1": "200",
        "same-conn-2": "403",
        "dot-segments": "403",
        "encoded-slash": "403",
        "host-mismatch": "421",
        "h2-prior-knowledge": "000", // no HTTP/2 inside the tunnel: the exchange fails
        websocket: "426",
        "realtime-secret": "403",
        "realtime-ws": "426",
        "assistants-run": "403",
        regional: "200",
        "by-ip": "403",
      });

      // The compressed stream went up plain, with include_usage added, and was metered from its usage; the
      // agent saw the stream it asked for (no usage chunk it did not request).
      const chat = sim.requests.filter((q) => q.path === "/v1/chat/completions");
      expect(chat.map((q) => [q.headers["content-encoding"], (q.body as { stream_options?: unknown }).stream_options])).toEqual([[undefined, { include_usage: true }]]);
      expect(readFileSync(join(ws, "chat.out"), "utf8")).not.toContain('"usage"');
      const rows = await db.selectFrom("usage_events").select(["path", "total_tokens", "estimated"]).where("run_id", "=", runId).execute();
      expect(rows.filter((u) => u.path === "/v1/chat/completions")).toEqual([{ path: "/v1/chat/completions", total_tokens: 37, estimated: 0 }]);
      // The regional host was intercepted and metered like api.openai.com (before, its tunnel was not).
      expect(rows.filter((u) => u.path === "/v1/responses")).toEqual([{ path: "/v1/responses", total_tokens: 37, estimated: 0 }]);

      // Nothing else reached the upstream: no background request, no batch, nothing by IP.
      const reached = sim.requests.map((q) => `${q.method} ${q.path}`);
      expect(reached.filter((p) => !p.startsWith("GET /v1/responses/"))).toEqual(["POST /v1/chat/completions", "POST /v1/messages", "POST /v1/responses"]);
      expect(sim.requests.some((q) => (q.body as { background?: unknown }).background !== undefined)).toBe(false);

      // The refusals are audited with their cause.
      const audit = await auditOf(db, runId);
      const bg = audit.filter((a) => a.method === "POST" && a.path === "/v1/responses" && a.decision === "refuse");
      expect(bg.map((a) => a.status)).toEqual([403, 403]);
      expect(bg[0]!.reason).toContain("background");
    });
  });
}

/** Requests written at once on one TLS connection: a metered one with batches pipelined behind it; a smuggle. */
function rawRequests(): { pipelined: string; smuggled: string } {
  const msg = JSON.stringify({ model: "claude-x", max_tokens: 5, messages: [{ role: "user", content: "hi" }] });
  const batch = '{"requests":[]}';
  const head = (path: string, extra: string) => `POST ${path} HTTP/1.1\r\nHost: api.anthropic.com\r\ncontent-type: application/json\r\n${extra}\r\n`;
  return {
    pipelined: head("/v1/messages", `Content-Length: ${msg.length}\r\n`) + msg + head("/v1/messages/batches", `Content-Length: ${batch.length}\r\n`) + batch,
    smuggled: head("/v1/messages", "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n") + "0\r\n\r\n" + head("/v1/messages/batches", `Content-Length: ${batch.length}\r\n`) + batch,
  };
}

describe("sandbox bottle, raw TLS", () => {
  test("a batch submission pipelined behind a metered request, or smuggled with both Content-Length and Transfer-Encoding, never reaches the upstream", async () => {
    sim.requests.length = 0;
    const runId = freshRunId("red-raw");
    const raw = rawRequests();
    const ws = freshWorkspace({ "pipelined.txt": raw.pipelined, "smuggled.txt": raw.smuggled });
    const red = await meteredRun(runId, [{ host: "api.anthropic.com", upstream: sim.url, auth: { header: "x-api-key", env: "REAL_KEY" } }]);
    const { db, ledger } = red;
    try {
      const h = await box.open("sandbox", redPlan("sandbox", runId, ws, red.run));
      const ssl = `timeout 20 openssl s_client -quiet -no_ign_eof -proxy "\${HTTPS_PROXY#http://}" -connect api.anthropic.com:443 -servername api.anthropic.com -CAfile "$NODE_EXTRA_CA_CERTS" 2>/dev/null`;
      const r = await box.run(h, ["sh", "-c", `(cat pipelined.txt; sleep 3) | ${ssl} > pipelined.out; (cat smuggled.txt; sleep 3) | ${ssl} > smuggled.out`]);
      expect(r.exitCode, r.stderr).toBe(0);
      await box.closeAll();
      await ledger.flush();
      const statuses = (f: string) => [...readFileSync(join(ws, f), "utf8").matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => m[1]);
      // The listener's parser answers the request with both framings 400 and closes, so nothing is split off
      // it. (The pipelined pair gets no answer on this connection at all, though the first request is sent and
      // metered; what matters here is that the batch behind it is never sent.)
      expect(statuses("smuggled.out")).toEqual(["400"]);
      expect(sim.requests.every((q) => q.path === "/v1/messages")).toBe(true);
      const upstreamAudit = (await auditOf(db, runId)).filter((a) => a.path.startsWith("/v1/messages/batches") && a.decision !== "refuse");
      expect(upstreamAudit).toEqual([]);
    } finally {
      await red.close();
    }
  });
});

describe("sandbox bottle, abandoned request", () => {
  test("a long prompt abandoned before the first event is charged its input estimate, not zero", async () => {
    sim.requests.length = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    sim.set({ beforeEvent: (i) => (i === 0 ? held : undefined) });
    const runId = freshRunId("red-abandon");
    const prompt = "Summarise this. " + "lorem ipsum dolor sit amet ".repeat(1500);
    const body = JSON.stringify({ model: "claude-x", max_tokens: 5, stream: true, messages: [{ role: "user", content: prompt }] });
    const ws = freshWorkspace({ "long.json": body });
    const red = await meteredRun(runId, [{ host: "api.anthropic.com", upstream: sim.url, auth: { header: "x-api-key", env: "REAL_KEY" } }]);
    const { db, ledger } = red;
    try {
      const h = await box.open("sandbox", redPlan("sandbox", runId, ws, red.run));
      // The agent hangs up after 2 s, with the response headers in and no event yet.
      const r = await box.run(h, ["sh", "-c", `curl -s -N -m 2 -o /dev/null --cacert "$NODE_EXTRA_CA_CERTS" -H 'content-type: application/json' --data-binary @long.json https://api.anthropic.com/v1/messages; echo "curl $?"`]);
      expect(r.stdout.trim()).toBe("curl 28"); // timed out: the client abandoned the request
      await box.closeAll();
      expect(sim.requests.map((q) => q.path)).toEqual(["/v1/messages"]); // the upstream had the whole prompt
      await ledger.flush();
      const rows = await db.selectFrom("usage_events").select(["input_tokens", "output_tokens", "estimated"]).where("run_id", "=", runId).execute();
      expect(rows).toEqual([{ input_tokens: estimateTokens(body.length), output_tokens: 0, estimated: 1 }]);
    } finally {
      release();
      sim.set({ beforeEvent: undefined });
      await red.close();
    }
  });
});
