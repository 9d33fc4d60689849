import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { AuditRecord } from "../../src/proxy/hooks.ts";
import type { EgressProxy, RunHandle } from "../../src/proxy/proxy.ts";
import type { Simulator } from "../../src/simulator/server.ts";
import { basicAuth, bottleCa, curl, rawExchange, startTlsSimulator, testProxy } from "../support/proxy-fixture.ts";

let sim: Simulator;
let proxy: EgressProxy;
let run: RunHandle;
const audits: AuditRecord[] = [];

beforeAll(async () => {
  sim = startTlsSimulator({ text: "still serving" });
  proxy = testProxy({ hooks: { onAudit: (r) => void audits.push(r) }, limits: { maxHeaderBytes: 8192, maxBodyBytes: 64 * 1024, helloTimeoutMs: 1500, headTimeoutMs: 1500 } });
  run = await proxy.openRun({ runId: "run-hostile", log: "full", routes: [{ host: "api.anthropic.com", upstream: sim.url }, { host: "api.openai.com", upstream: sim.url }] });
});

afterAll(async () => {
  await run.close();
  await proxy.close();
  await sim.close();
});

const body = JSON.stringify({ model: "m", max_tokens: 8, messages: [{ role: "user", content: "hi" }] });
async function stillServes(): Promise<void> {
  const r = await curl(["--proxy", run.proxyUrl!, "--cacert", bottleCa().certPath, "-d", body, "https://api.anthropic.com/v1/messages"]);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout).content[0].text).toBe("still serving");
}
const auditedSince = (n: number) => audits.slice(n);

/** CONNECTs through the proxy, then does a TLS handshake with the given SNI; resolves to the outcome. */
function tlsThroughProxy(connectHost: string, sni: string): Promise<{ ok: boolean; error?: string; alpn?: string | false }> {
  return new Promise((resolve) => {
    const raw = netConnect(run.port!, "127.0.0.1", () => {
      raw.write(`CONNECT ${connectHost}:443 HTTP/1.1\r\nHost: ${connectHost}:443\r\n${basicAuth(run.credential!)}\r\n`);
    });
    raw.once("data", (d: Buffer) => {
      if (!d.toString().startsWith("HTTP/1.1 200")) return resolve({ ok: false, error: d.toString() });
      const t = tlsConnect({ socket: raw, servername: sni, ca: bottleCa().certPem, ALPNProtocols: ["h2", "http/1.1"] });
      t.on("secureConnect", () => {
        const alpn = t.alpnProtocol ?? false;
        t.destroy();
        resolve({ ok: true, alpn });
      });
      t.on("error", (e) => resolve({ ok: false, error: e.message }));
    });
    raw.on("error", (e) => resolve({ ok: false, error: e.message }));
  });
}

describe("hostile and broken clients", () => {
  test("a TLS server name that differs from the CONNECT host is refused with a TLS alert and audited", async () => {
    const n = audits.length;
    const r = await tlsThroughProxy("api.anthropic.com", "evil.example.test");
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/unrecognized name|alert|socket/i);
    expect(auditedSince(n)).toContainEqual(expect.objectContaining({ decision: "refuse", status: 421, host: "api.anthropic.com", reason: expect.stringContaining("evil.example.test") }));
    expect((await tlsThroughProxy("api.anthropic.com", "api.anthropic.com")).ok).toBe(true);
    await stillServes();
  });

  test("a client offering h2 and http/1.1 never gets h2: the intercepted side speaks HTTP/1.1 only", async () => {
    const r = await tlsThroughProxy("api.anthropic.com", "api.anthropic.com");
    expect(r.ok).toBe(true);
    expect(r.alpn === false || r.alpn === "http/1.1").toBe(true);
    const v = await curl(["-v", "-o", "/dev/null", "--proxy", run.proxyUrl!, "--cacert", bottleCa().certPath, "-d", body, "https://api.anthropic.com/v1/messages"]);
    expect(v.stderr).toContain("> POST /v1/messages HTTP/1.1");
    expect(v.stderr).not.toContain("HTTP/2");
  });

  test("a Host header that differs from the TLS server name (domain fronting) gets 421 and nothing goes upstream", async () => {
    const n = audits.length;
    const upstreamBefore = sim.requests.length;
    const r = await curl(["-i", "--suppress-connect-headers", "--proxy", run.proxyUrl!, "--cacert", bottleCa().certPath, "-H", "Host: api.openai.com", "-d", body, "https://api.anthropic.com/v1/messages"]);
    expect(r.stdout).toStartWith("HTTP/1.1 421");
    expect(r.stdout).toContain("does not match the TLS server name api.anthropic.com");
    expect(sim.requests.length).toBe(upstreamBefore);
    expect(auditedSince(n)).toContainEqual(expect.objectContaining({ decision: "refuse", status: 421 }));
  });

  test("oversized proxy-request headers get 431 and are audited", async () => {
    const n = audits.length;
    const big = "a".repeat(20_000);
    const outer = await curl(["-o", "/dev/null", "-w", "%{http_connect}", "--proxy", run.proxyUrl!, "--proxy-header", `X-Big: ${big}`, "--cacert", bottleCa().certPath, "https://api.anthropic.com/v1/messages"]);
    expect(outer.stdout).toBe("431");
    expect(auditedSince(n)).toContainEqual(expect.objectContaining({ status: 431, decision: "error" }));
    await stillServes();
  });

  test("oversized headers inside the tunnel get 431 and never reach the upstream", async () => {
    const upstreamBefore = sim.requests.length;
    // Bun.serve answers 431 and closes at once; if the client's last TLS record arrives after that close the
    // kernel resets the connection before curl reads the answer. That race is rare, so allow two retries.
    const outcomes: string[] = [];
    for (let i = 0; i < 3 && !outcomes.includes("431"); i++) {
      const inner = await curl(["-o", "/dev/null", "-w", "%{http_code}", "--proxy", run.proxyUrl!, "-H", `X-Big: ${"b".repeat(17_000)}`, "--cacert", bottleCa().certPath, "-d", body, "https://api.anthropic.com/v1/messages"]);
      outcomes.push(inner.stdout);
    }
    expect(outcomes).toContain("431");
    expect(sim.requests.length).toBe(upstreamBefore);
    await stillServes();
  });

  test("an oversized request body gets 413 and is audited", async () => {
    const n = audits.length;
    const r = await curl(["-o", "/dev/null", "-w", "%{http_code}", "--proxy", run.proxyUrl!, "--cacert", bottleCa().certPath, "-d", "x".repeat(100 * 1024), "https://api.anthropic.com/v1/messages"]);
    expect(r.stdout).toBe("413");
    expect(auditedSince(n)).toContainEqual(expect.objectContaining({ status: 413, decision: "refuse" }));
    await stillServes();
  });

  test("a malformed request line gets 400 and the proxy keeps serving", async () => {
    const r = await rawExchange(run.port!, ["GARBAGE LINE\r\n\r\n"]);
    expect(r.text).toStartWith("HTTP/1.1 400");
    const bin = await rawExchange(run.port!, [new Uint8Array([0, 1, 2, 3, 255, 254, 13, 10, 13, 10])]);
    expect(bin.closed).toBe(true);
    const badTarget = await rawExchange(run.port!, [`CONNECT not a target HTTP/1.1\r\n${basicAuth(run.credential!)}\r\n`]);
    expect(badTarget.text).toMatch(/^HTTP\/1.1 400/);
    await stillServes();
  });

  test("garbage after CONNECT is dropped and audited, and the proxy keeps serving", async () => {
    const n = audits.length;
    const r = await rawExchange(run.port!, [`CONNECT api.anthropic.com:443 HTTP/1.1\r\nHost: api.anthropic.com:443\r\n${basicAuth(run.credential!)}\r\n`, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"]);
    expect(r.text).toStartWith("HTTP/1.1 200 Connection Established\r\n\r\n");
    expect(r.text.slice(r.text.indexOf("\r\n\r\n") + 4)).toBe("");
    expect(r.closed).toBe(true);
    expect(auditedSince(n)).toContainEqual(expect.objectContaining({ decision: "error", reason: expect.stringContaining("not a TLS ClientHello") }));
    await stillServes();
  });

  test("a client that never sends a ClientHello is timed out", async () => {
    const n = audits.length;
    const r = await rawExchange(run.port!, [`CONNECT api.anthropic.com:443 HTTP/1.1\r\n${basicAuth(run.credential!)}\r\n`], 5000);
    expect(r.closed).toBe(true);
    expect(auditedSince(n)).toContainEqual(expect.objectContaining({ decision: "error", reason: "no TLS ClientHello after CONNECT" }));
  });

  test("a client that dribbles a request head and never finishes it (slowloris) gets 408 and is closed", async () => {
    const n = audits.length;
    // One byte every 100 ms, never the blank line that ends a head: an idle timer would never fire.
    const got = await new Promise<{ text: string; sent: number }>((resolve, reject) => {
      const head = `CONNECT api.anthropic.com:443 HTTP/1.1\r\nHost: api.anthropic.com:443\r\n${basicAuth(run.credential!)}X-Slow: `;
      let text = "";
      let sent = 0;
      let timer: ReturnType<typeof setInterval> | undefined;
      const sock = netConnect(run.port!, "127.0.0.1", () => {
        sock.write(head);
        timer = setInterval(() => {
          sent++;
          if (!sock.destroyed) sock.write("a");
        }, 100);
      });
      sock.on("data", (d: Buffer) => void (text += d.toString("latin1")));
      sock.on("error", () => undefined);
      sock.on("close", () => {
        clearInterval(timer);
        resolve({ text, sent });
      });
      setTimeout(() => {
        clearInterval(timer);
        sock.destroy();
        reject(new Error(`still open after ${sent} dribbled bytes (the front never timed the head out)`));
      }, 15_000);
    });
    expect(got.sent).toBeGreaterThan(0);
    expect(got.text).toStartWith("HTTP/1.1 408 Request Timeout\r\n");
    expect(auditedSince(n)).toContainEqual(expect.objectContaining({ decision: "error", status: 408, reason: expect.stringContaining("no complete request head") }));
    await stillServes();
  }, 20_000);

  test("an unreachable upstream gives 502 with a reason", async () => {
    const dead = await proxy.openRun({ runId: "run-dead", routes: [{ host: "api.anthropic.com", upstream: "https://127.0.0.1:1" }] });
    try {
      const r = await curl(["-i", "--suppress-connect-headers", "--proxy", dead.proxyUrl!, "--cacert", bottleCa().certPath, "-d", body, "https://api.anthropic.com/v1/messages"]);
      expect(r.stdout).toMatch(/^HTTP\/1.1 502/);
      expect(r.stdout).toContain("bottle: upstream 127.0.0.1:1 unreachable");
    } finally {
      await dead.close();
    }
  });
});
