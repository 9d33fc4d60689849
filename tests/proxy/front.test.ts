/**
 * The native front (front.ts) takes a CONNECT to a metered host itself and hands everything else to the
 * node:http listener. Its reader must accept only what it can prove, so every doubtful request head is
 * checked to fall through (where node:http answers as before: 400, 403, 407, 431, tunnels), and the work it
 * does itself (the ClientHello check, also when the hello shares the CONNECT's packet) is checked on a real
 * proxy.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { TLS_ALERT_UNRECOGNIZED_NAME } from "../../src/proxy/client-hello.ts";
import type { ConnectDeps } from "../../src/proxy/connect.ts";
import { fastConnect } from "../../src/proxy/front.ts";
import type { AuditRecord } from "../../src/proxy/hooks.ts";
import type { EgressProxy, RunHandle } from "../../src/proxy/proxy.ts";
import { DEFAULT_LIMITS } from "../../src/proxy/run-context.ts";
import type { Simulator } from "../../src/simulator/server.ts";
import { basicAuth, bottleCa, curl, rawExchange, startTlsSimulator, testProxy } from "../support/proxy-fixture.ts";

const deps = (fail = false): ConnectDeps => ({
  run: {
    runId: "r",
    routes: [{ host: "api.anthropic.com", upstream: "https://127.0.0.1:1" }, { host: "files.example.test", mitm: false }],
    log: "full",
    hooks: {},
    auth: new Map(),
    limits: DEFAULT_LIMITS,
    upstreamCa: [],
  },
  mitmSocket: () => {
    if (fail) throw new Error("no listener");
    return "/listener.sock";
  },
});
const auth = basicAuth("secret");
const head = (s: string) => new TextEncoder().encode(s);
const take = (h: string, ...o: [credential?: string | null, d?: ConnectDeps]) => fastConnect(o[1] ?? deps(), head(h), o[0] === null ? undefined : (o[0] ?? "secret"));

describe("what the fast path takes", () => {
  test("a well-formed CONNECT to a metered host with the run's credential", () => {
    expect(take(`CONNECT api.anthropic.com:443 HTTP/1.1\r\nHost: api.anthropic.com:443\r\n${auth}\r\n`)).toEqual({ host: "api.anthropic.com", socketPath: "/listener.sock" });
  });

  test("on the unix socket (no credential required), the same CONNECT without Proxy-Authorization", () => {
    expect(take("CONNECT api.anthropic.com:443 HTTP/1.1\r\nHost: api.anthropic.com:443\r\n\r\n", null)).toEqual({ host: "api.anthropic.com", socketPath: "/listener.sock" });
  });

  const declined: [string, string][] = [
    ["no credential", "CONNECT api.anthropic.com:443 HTTP/1.1\r\n\r\n"],
    ["a wrong credential", `CONNECT api.anthropic.com:443 HTTP/1.1\r\n${basicAuth("guess")}\r\n`],
    ["two Proxy-Authorization headers (right one second)", `CONNECT api.anthropic.com:443 HTTP/1.1\r\n${basicAuth("guess")}${auth}\r\n`],
    ["two Proxy-Authorization headers (right one first)", `CONNECT api.anthropic.com:443 HTTP/1.1\r\n${auth}${basicAuth("guess")}\r\n`],
    ["HTTP/1.0", `CONNECT api.anthropic.com:443 HTTP/1.0\r\n${auth}\r\n`],
    ["a lowercase method", `connect api.anthropic.com:443 HTTP/1.1\r\n${auth}\r\n`],
    ["an absolute-form plain request", `GET http://api.anthropic.com/ HTTP/1.1\r\n${auth}\r\n`],
    ["a space before a header's colon", `CONNECT api.anthropic.com:443 HTTP/1.1\r\nProxy-Authorization : Basic ${Buffer.from("bottle:secret").toString("base64")}\r\n\r\n`],
    ["a folded header line", `CONNECT api.anthropic.com:443 HTTP/1.1\r\n${auth} folded\r\n\r\n`],
    ["a byte outside printable ASCII", `CONNECT api.anthropic.com:443 HTTP/1.1\r\nX-Note: caf\u00e9\r\n${auth}\r\n`],
    ["a bare LF line ending", `CONNECT api.anthropic.com:443 HTTP/1.1\n${auth}\r\n`],
    ["a target without a port", `CONNECT api.anthropic.com HTTP/1.1\r\n${auth}\r\n`],
    ["a host off the allowlist", `CONNECT evil.example.test:443 HTTP/1.1\r\n${auth}\r\n`],
    ["a mitm: false host (tunnels stay on node:http)", `CONNECT files.example.test:443 HTTP/1.1\r\n${auth}\r\n`],
  ];
  for (const [what, h] of declined) test(`not ${what}: it falls through to node:http`, () => expect(take(h)).toBeUndefined());

  test("not a host whose TLS listener cannot start (node:http answers 502 and audits it)", () => {
    expect(take(`CONNECT api.anthropic.com:443 HTTP/1.1\r\n${auth}\r\n`, "secret", deps(true))).toBeUndefined();
  });
});

let sim: Simulator;
let proxy: EgressProxy;
let run: RunHandle;
const audits: AuditRecord[] = [];

beforeAll(async () => {
  sim = startTlsSimulator({ text: "front door" });
  proxy = testProxy({ hooks: { onAudit: (r) => void audits.push(r) } });
  run = await proxy.openRun({ runId: "run-front", log: "full", routes: [{ host: "api.anthropic.com", upstream: sim.url }] });
});

afterAll(async () => {
  await run.close();
  await proxy.close();
  await sim.close();
});

/** The first bytes a real TLS client sends for this server name: its ClientHello. */
async function clientHello(servername: string): Promise<Buffer> {
  return new Promise((resolve) => {
    const srv = createServer((c) => {
      c.once("data", (d: Buffer) => {
        resolve(d);
        c.destroy();
        srv.close();
      });
    });
    srv.listen(0, "127.0.0.1", () => {
      const t = tlsConnect({ port: (srv.address() as { port: number }).port, host: "127.0.0.1", servername, rejectUnauthorized: false });
      t.on("error", () => {});
    });
  });
}

describe("the fast path on a real proxy", () => {
  const connect = () => `CONNECT api.anthropic.com:443 HTTP/1.1\r\nHost: api.anthropic.com:443\r\n${basicAuth(run.credential!)}\r\n`;

  test("a ClientHello in the CONNECT's own packet reaches the TLS listener, which answers it", async () => {
    const hello = await clientHello("api.anthropic.com");
    const r = await rawExchange(run.port!, [Buffer.concat([Buffer.from(connect()), hello])], 1500);
    expect(r.text.startsWith("HTTP/1.1 200 Connection Established\r\n\r\n")).toBe(true);
    const tls = Buffer.from(r.text.slice("HTTP/1.1 200 Connection Established\r\n\r\n".length), "latin1");
    expect([tls[0], tls[1]]).toEqual([0x16, 0x03]); // a TLS handshake record: the ServerHello
  });

  test("a ClientHello for another name in the same packet gets the TLS alert, and one audit record", async () => {
    const n = audits.length;
    const hello = await clientHello("evil.example.test");
    const r = await rawExchange(run.port!, [Buffer.concat([Buffer.from(connect()), hello])]);
    expect(r.closed).toBe(true);
    expect(r.text).toBe(`HTTP/1.1 200 Connection Established\r\n\r\n${Buffer.from(TLS_ALERT_UNRECOGNIZED_NAME).toString("latin1")}`);
    expect(audits.slice(n).filter((a) => a.status === 421)).toEqual([expect.objectContaining({ decision: "refuse", host: "api.anthropic.com", reason: expect.stringContaining("evil.example.test") })]);
  });

  test("garbage in the CONNECT's own packet is dropped and audited once", async () => {
    const n = audits.length;
    const r = await rawExchange(run.port!, [`${connect()}GET / HTTP/1.1\r\nHost: x\r\n\r\n`]);
    expect(r.closed).toBe(true);
    expect(r.text).toBe("HTTP/1.1 200 Connection Established\r\n\r\n");
    expect(audits.slice(n)).toEqual([expect.objectContaining({ status: 400, decision: "error", reason: expect.stringContaining("not a TLS ClientHello") })]);
  });

  test("a CONNECT node:http must answer (HTTP/1.0) still works end to end, through the fallback", async () => {
    const r = await curl(["--proxy1.0", run.proxyUrl!.replace("http://", ""), "--proxy-user", `bottle:${run.credential}`, "--cacert", bottleCa().certPath, "-d", JSON.stringify({ model: "m", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }), "https://api.anthropic.com/v1/messages"]);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout).content[0].text).toBe("front door");
  });
});
