import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { AuditRecord, ProxyRequestContext } from "../../src/proxy/hooks.ts";
import type { EgressProxy, RunHandle } from "../../src/proxy/proxy.ts";
import type { Simulator } from "../../src/simulator/server.ts";
import { bottleCa, curl, startTlsSimulator, testProxy, unixBridge, upstreamCa } from "../support/proxy-fixture.ts";

let sim: Simulator;
let tunnelSim: Simulator;
let proxy: EgressProxy;
let run: RunHandle;
const audits: AuditRecord[] = [];
const seen: { runId: string; host: string; provider?: string; path: string; chunks: number; ended: boolean }[] = [];

beforeAll(async () => {
  sim = startTlsSimulator({ text: "Hello through the bottle proxy" });
  tunnelSim = startTlsSimulator({ text: "tunneled" }, "files.example.test");
  proxy = testProxy({
    env: { REAL_ANTHROPIC_KEY: "sk-real-secret" },
    hooks: {
      onRequest(ctx: ProxyRequestContext) {
        seen.push({ runId: ctx.runId, host: ctx.host, ...(ctx.provider ? { provider: ctx.provider } : {}), path: ctx.path, chunks: 0, ended: false });
        ctx.state.i = seen.length - 1;
      },
      onResponseChunk(ctx) {
        seen[ctx.state.i as number]!.chunks++;
      },
      onResponseEnd(ctx) {
        seen[ctx.state.i as number]!.ended = true;
      },
      onAudit: (r) => void audits.push(r),
    },
  });
  run = await proxy.openRun({
    runId: "run-mitm",
    log: "full",
    routes: [
      { host: "api.anthropic.com", upstream: sim.url, auth: { header: "x-api-key", env: "REAL_ANTHROPIC_KEY" } },
      { host: "api.openai.com", upstream: sim.url },
      { host: "files.example.test", mitm: false, upstream: tunnelSim.url },
      { host: "plain.example.test", upstream: sim.url.replace("https:", "http:") },
    ],
  });
});

afterAll(async () => {
  await run.close();
  await proxy.close();
  await sim.close();
  await tunnelSim.close();
});

const ca = () => bottleCa().certPath;
const body = (o: Record<string, unknown>) => JSON.stringify({ model: "claude-test", max_tokens: 64, messages: [{ role: "user", content: "hi" }], ...o });

describe("MITM through the bottle proxy", () => {
  test("curl streams an Anthropic SSE response through the proxy, and hooks see the run and provider", async () => {
    const r = await curl(["--proxy", run.proxyUrl!, "--cacert", ca(), "-H", "x-api-key: placeholder", "-d", body({ stream: true }), "https://api.anthropic.com/v1/messages"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith("event: message_start\n");
    expect(r.stdout).toContain('"text":"bottle "');
    expect(r.stdout).toEndWith('event: message_stop\ndata: {"type":"message_stop"}\n\n');
    const s = seen.find((x) => x.path === "/v1/messages")!;
    expect(s).toMatchObject({ runId: "run-mitm", host: "api.anthropic.com", provider: "claude", ended: true });
    expect(s.chunks).toBeGreaterThan(0);
  });

  test("secret custody: the upstream gets the host's key, never the agent's placeholder", async () => {
    const last = sim.requests.at(-1)!;
    expect(last.headers["x-api-key"]).toBe("sk-real-secret");
    expect(JSON.stringify(last.headers)).not.toContain("placeholder");
    expect(last.headers["proxy-authorization"]).toBeUndefined();
  });

  test("Bun fetch through the proxy gets an OpenAI chat completion", async () => {
    const res = await fetch("https://api.openai.com/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-placeholder" },
      body: JSON.stringify({ model: "gpt-test", messages: [{ role: "user", content: "hi" }] }),
      proxy: run.proxyUrl,
      tls: { ca: bottleCa().certPem },
    } as RequestInit);
    expect(res.status).toBe(200);
    const json = (await res.json()) as { choices: { message: { content: string } }[]; usage: { prompt_tokens: number } };
    expect(json.choices[0]!.message.content).toBe("Hello through the bottle proxy");
    expect(json.usage.prompt_tokens).toBe(25);
    expect(seen.at(-1)).toMatchObject({ host: "api.openai.com", provider: "codex", ended: true });
  });

  test("the run's unix socket serves the same proxy (through a bridge, as inside a sandbox)", async () => {
    const bridge = await unixBridge(run.socketPath);
    try {
      const r = await curl(["--proxy", `http://127.0.0.1:${bridge.port}`, "--cacert", ca(), "-d", body({}), "https://api.anthropic.com/v1/messages"]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).content[0].text).toBe("Hello through the bottle proxy");
    } finally {
      bridge.close();
    }
  });

  test("plain-HTTP proxy requests are handled too", async () => {
    const plainSim = (await import("../../src/simulator/server.ts")).startSimulator({ text: "plain" });
    const p = await proxy.openRun({ runId: "run-plain", routes: [{ host: "plain.example.test", upstream: plainSim.url }] });
    try {
      const r = await curl(["--proxy", p.proxyUrl!, "-d", body({}), "http://plain.example.test/v1/messages"]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).content[0].text).toBe("plain");
    } finally {
      await p.close();
      await plainSim.close();
    }
  });

  test("the TCP port refuses a client without the run's credential (407)", async () => {
    const r = await curl(["-o", "/dev/null", "-w", "%{http_connect}", "--proxy", `http://127.0.0.1:${run.port}`, "--cacert", ca(), "https://api.anthropic.com/v1/messages"]);
    expect(r.stdout).toBe("407");
    const wrong = await curl(["-o", "/dev/null", "-w", "%{http_connect}", "--proxy", `http://bottle:nope@127.0.0.1:${run.port}`, "https://api.anthropic.com/"]);
    expect(wrong.stdout).toBe("407");
  });
});

describe("deny and tunnel", () => {
  test("a host with no route is refused with 403, a readable reason, and an audit record", async () => {
    const before = audits.length;
    const r = await curl(["-i", "--proxy", run.proxyUrl!, "--cacert", ca(), "https://evil.example.test/steal"]);
    expect(r.code).toBe(56);
    expect(r.stdout).toContain("HTTP/1.1 403 Forbidden");
    expect(r.stdout).toContain("X-Bottle-Reason: evil.example.test is not on this bottle's egress allowlist");
    const plain = await curl(["-i", "--proxy", run.proxyUrl!, "http://evil.example.test/x"]);
    expect(plain.stdout).toStartWith("HTTP/1.1 403");
    expect(plain.stdout).toContain("bottle: evil.example.test is not on this bottle's egress allowlist");
    const denials = audits.slice(before).filter((a) => a.decision === "deny");
    expect(denials.map((d) => [d.host, d.method, d.status, d.runId])).toEqual([
      ["evil.example.test", "CONNECT", 403, "run-mitm"],
      ["evil.example.test", "GET", 403, "run-mitm"],
    ]);
    expect(denials[0]!.reason).toContain("egress allowlist");
  });

  test("a mitm: false host is tunneled: the client sees the upstream's own certificate end to end", async () => {
    const before = audits.length;
    // Trusting only the upstream's test CA works; the bottle CA never signs this host.
    const r = await curl(["-w", "\n%{ssl_verify_result}", "--proxy", run.proxyUrl!, "--cacert", upstreamCa().ca.certPath, "-d", body({}), "https://files.example.test/v1/messages"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("tunneled");
    expect(r.stdout).toEndWith("\n0");
    const strict = await curl(["--proxy", run.proxyUrl!, "--cacert", ca(), "-d", body({}), "https://files.example.test/v1/messages"]);
    expect(strict.code).toBe(60); // the bottle CA does not vouch for a tunneled host: its TLS was not touched
    await Bun.sleep(50);
    const t = audits.slice(before).find((a) => a.decision === "tunnel")!;
    expect(t).toMatchObject({ host: "files.example.test", method: "CONNECT", status: 200, runId: "run-mitm" });
    expect(t.bytesDown).toBeGreaterThan(0);
    expect(t.bytesUp).toBeGreaterThan(0);
  });
});

describe("audit log levels", () => {
  test("egress.log: blocks keeps only denials; full keeps every request with its bytes and status", async () => {
    const records: [AuditRecord, string][] = [];
    const p = await proxy.openRun({ runId: "run-blocks", log: "blocks", hooks: { onAudit: (r, l) => void records.push([r, l]) }, routes: [{ host: "api.anthropic.com", upstream: sim.url }] });
    try {
      const ok = await curl(["--proxy", p.proxyUrl!, "--cacert", ca(), "-d", body({}), "https://api.anthropic.com/v1/messages"]);
      expect(ok.code).toBe(0);
      await curl(["--proxy", p.proxyUrl!, "--cacert", ca(), "https://blocked.example.test/"]);
      expect(records.map(([r, l]) => [r.decision, r.host, l])).toEqual([["deny", "blocked.example.test", "blocks"]]);
    } finally {
      await p.close();
    }
    const full = audits.find((a) => a.runId === "run-mitm" && a.decision === "mitm" && a.path === "/v1/messages")!;
    expect(full).toMatchObject({ method: "POST", status: 200, host: "api.anthropic.com" });
    expect(full.bytesUp).toBeGreaterThan(0);
    expect(full.bytesDown).toBeGreaterThan(0);
    expect(full.durationMs).toBeGreaterThanOrEqual(0);
    expect(typeof full.time).toBe("number");
  });
});
