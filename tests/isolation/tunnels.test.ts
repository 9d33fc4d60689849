/**
 * `mitm: false` tunnels, attacked from inside real bottles through the real proxy: a tunnel reaches only
 * port 443, and only a TLS ClientHello whose server name is the CONNECT host opens it. Before the gate
 * existed, each attack below succeeded: raw TCP to a host service on any port, raw bytes to the tunnel's
 * upstream on 443, and a TLS handshake for another name through an allowed host. Every refusal is audited.
 */
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import type { AuditRecord } from "../../src/proxy/hooks.ts";
import type { EgressProxy, RunHandle } from "../../src/proxy/proxy.ts";
import type { Simulator } from "../../src/simulator/server.ts";
import { freshWorkspace, planFor, REPO } from "../helpers/bottles.ts";
import { startTlsSimulator, testProxy } from "../support/proxy-fixture.ts";
import { BACKENDS, bottles } from "./bottles.ts";

setDefaultTimeout(120_000);

const PROBE = join(REPO, "tests/fixtures/tunnel-probe.ts");
const box = bottles();
const audits: AuditRecord[] = [];
const servers: Server[] = [];
let sim: Simulator;
let proxy: EgressProxy;
let run: RunHandle;
let rawPort: number;

beforeAll(async () => {
  sim = startTlsSimulator({ text: "tunneled" }, "files.example.test");
  // A plain TCP service on the host's loopback: what a tunnel must never turn into a raw pipe.
  const raw = createServer((c) => {
    c.on("error", () => {});
    c.on("data", () => c.end("raw-service-answered\n"));
  });
  servers.push(raw);
  rawPort = await new Promise<number>((r) => raw.listen(0, "127.0.0.1", () => r((raw.address() as { port: number }).port)));
  proxy = testProxy({ hooks: { onAudit: (r) => void audits.push(r) }, limits: { helloTimeoutMs: 3000 } });
  run = await proxy.openRun({
    runId: "run-tunnels",
    log: "full",
    routes: [
      { host: "files.example.test", mitm: false, upstream: sim.url },
      { host: "localhost", mitm: false },
      { host: "raw.example.test", mitm: false, upstream: `https://127.0.0.1:${rawPort}` },
    ],
  });
});
afterEach(() => box.closeAll(), 120_000);
afterAll(async () => {
  await run?.close();
  await proxy?.close();
  await sim?.close();
  for (const s of servers) s.close();
});

for (const kind of BACKENDS) {
  describe(`${kind}: mitm: false tunnels`, () => {
    async function probe(...args: string[]): Promise<string> {
      const h = await box.open(kind, planFor({ proxySocket: run.socketPath, cwd: freshWorkspace() }));
      const r = await box.run(h, [process.execPath, PROBE, ...args]);
      expect(r.stderr).toBe("");
      return r.stdout.trim();
    }

    test("a TLS handshake naming the CONNECT host tunnels to the upstream (the allowed case)", async () => {
      const n = audits.length;
      expect(await probe("files.example.test", "443", "tls", "files.example.test")).toBe("TLS-OK");
      await Bun.sleep(100);
      expect(audits.slice(n)).toContainEqual(expect.objectContaining({ decision: "tunnel", host: "files.example.test", status: 200 }));
    });

    test("a CONNECT to another port than 443 is refused with 403 and audited: no raw TCP to a host service", async () => {
      const n = audits.length;
      expect(await probe("localhost", String(rawPort), "raw")).toBe("REFUSED 403");
      expect(audits.slice(n)).toContainEqual(expect.objectContaining({ decision: "refuse", status: 403, host: "localhost", reason: expect.stringContaining("only to port 443") }));
    });

    test("raw bytes after a CONNECT to port 443 never reach the upstream", async () => {
      const n = audits.length;
      const out = await probe("raw.example.test", "443", "raw");
      expect(out).not.toContain("raw-service-answered");
      expect(out).toBe("CLOSED");
      expect(audits.slice(n)).toContainEqual(expect.objectContaining({ decision: "refuse", status: 400, host: "raw.example.test", reason: expect.stringContaining("did not start with a TLS ClientHello") }));
    });

    test("a TLS server name that differs from the CONNECT host is refused with a TLS alert and audited", async () => {
      const n = audits.length;
      expect(await probe("files.example.test", "443", "tls", "evil.example.test")).toMatch(/^TLS-FAIL .*(unrecognized name|alert)/i);
      expect(audits.slice(n)).toContainEqual(expect.objectContaining({ decision: "refuse", status: 421, host: "files.example.test", reason: expect.stringContaining("evil.example.test") }));
    });

    test("a ClientHello without a server name is refused: the destination cannot be checked", async () => {
      const n = audits.length;
      expect(await probe("files.example.test", "443", "tls", "-")).toStartWith("TLS-FAIL");
      expect(audits.slice(n)).toContainEqual(expect.objectContaining({ decision: "refuse", status: 421, reason: expect.stringContaining("names no server") }));
    });
  });
}
