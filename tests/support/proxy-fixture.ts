/**
 * Shared set-up for the proxy tests: a test CA that signs the fake upstream's certificate (so the proxy's
 * upstream TLS is real), the simulated provider serving HTTPS on loopback, and a bottle proxy whose CA lives
 * in the test's BOTTLE_HOME. Everything is torn down by PID/handle in `close()`.
 */
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { loadOrCreateCa, type CertificateAuthority } from "../../src/ca/authority.ts";
import { LeafIssuer } from "../../src/ca/leaf.ts";
import type { Route } from "../../src/manifest/types.ts";
import { createProxy, type CreateProxyOptions, type EgressProxy, type RunHandle } from "../../src/proxy/proxy.ts";
import { startSimulator, type Simulator, type StartSimulatorOptions } from "../../src/simulator/server.ts";

let testCa: { ca: CertificateAuthority; leaves: LeafIssuer } | undefined;

/** One CA per test process for fake upstreams ("the test CA"); distinct from bottle's own CA. */
export function upstreamCa(): { ca: CertificateAuthority; leaves: LeafIssuer } {
  if (!testCa) {
    const ca = loadOrCreateCa(mkdtempSync(join(process.env.TMPDIR!, "test-ca-")), "bottle test upstream CA");
    testCa = { ca, leaves: new LeafIssuer(ca) };
  }
  return testCa;
}

/** The simulator over TLS on 127.0.0.1, with a certificate from the test CA for `certHost`. */
export function startTlsSimulator(opts: StartSimulatorOptions = {}, certHost = "127.0.0.1"): Simulator {
  const { leaves } = upstreamCa();
  const leaf = leaves.issue(certHost);
  return startSimulator({ ...opts, tls: { cert: leaf.certPem, key: leaf.keyPem } });
}

let proxyCa: CertificateAuthority | undefined;
export function bottleCa(): CertificateAuthority {
  proxyCa ??= loadOrCreateCa(join(process.env.BOTTLE_HOME!, "ca"));
  return proxyCa;
}

export function testProxy(opts: Omit<CreateProxyOptions, "ca" | "caDir"> = {}): EgressProxy {
  return createProxy({ ...opts, ca: bottleCa(), upstreamCa: [upstreamCa().ca.certPem, ...(opts.upstreamCa ?? [])] });
}

/** The simulator as the upstream of both model API hosts (the routes of a MITM test run). */
export function simulatedRoutes(sim: Simulator): Route[] {
  return [
    { host: "api.anthropic.com", upstream: sim.url },
    { host: "api.openai.com", upstream: sim.url },
  ];
}

/** fetch options (also the SDKs' `fetchOptions`) that send a request through a run's proxy, trusting bottle's CA. */
export function viaProxy(h: RunHandle): Record<string, unknown> {
  return { proxy: h.proxyUrl, tls: { ca: bottleCa().certPem } };
}

export interface CurlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs real curl (argv array) with the proxy environment cleared; bounded in time. */
export async function curl(args: string[], timeoutMs = 20_000): Promise<CurlResult> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/_proxy$/i.test(k)) env[k] = v;
  const p = Bun.spawn(["curl", "--silent", "--show-error", "--max-time", String(Math.ceil(timeoutMs / 1000)), ...args], { env, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

/** A loopback TCP port piped to a unix socket: what the sandbox bridge does inside a bottle. */
export async function unixBridge(socketPath: string): Promise<{ port: number; close(): void }> {
  const { createServer, connect } = await import("node:net");
  const srv = createServer((c) => {
    const u = connect(socketPath);
    c.pipe(u);
    u.pipe(c);
    c.on("error", () => u.destroy());
    u.on("error", () => c.destroy());
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  return { port: (srv.address() as { port: number }).port, close: () => void srv.close() };
}

/** Sends raw bytes to host:port and collects everything received until the peer closes (or `ms` pass). */
export async function rawExchange(port: number, chunks: (string | Uint8Array)[], ms = 3000): Promise<{ text: string; closed: boolean }> {
  const { connect } = await import("node:net");
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    const s = connect(port, "127.0.0.1", async () => {
      for (const c of chunks) {
        s.write(c);
        await Bun.sleep(20);
      }
    });
    const done = (closed: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolve({ text: Buffer.concat(parts).toString("latin1"), closed });
    };
    const timer = setTimeout(() => done(false), ms);
    s.on("data", (d: Buffer) => void parts.push(d));
    s.on("close", () => done(true));
    s.on("error", () => {});
  });
}

export function basicAuth(credential: string): string {
  return `Proxy-Authorization: Basic ${Buffer.from(`bottle:${credential}`).toString("base64")}\r\n`;
}
