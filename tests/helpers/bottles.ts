/**
 * Shared fixtures for backend tests: a stand-in proxy on a unix socket (answers every proxied request with
 * what it received, so a test can see that a request really crossed the bridge), a fresh workspace, and a
 * plan for a run. The real proxy is used where metering is asserted.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { BottlePlan } from "../../src/backends/types.ts";

export const REPO = resolve(import.meta.dir, "../..");
export const NET_PROBE = join(REPO, "tests/fixtures/net-probe.ts");

export interface EchoProxy {
  socketPath: string;
  requests: string[];
  stop(): void;
}

/** A unix-socket HTTP server standing in for the proxy: records and echoes each request's URL. */
export function echoProxy(): EchoProxy {
  const dir = mkdtempSync(join(tmpdir(), "px-"));
  const socketPath = join(dir, "proxy.sock");
  const requests: string[] = [];
  const server = Bun.serve({
    unix: socketPath,
    fetch(req) {
      requests.push(req.url);
      return new Response(`via-proxy ${req.method} ${req.url}\n`);
    },
  });
  return { socketPath, requests, stop: () => server.stop(true) };
}

let n = 0;
export function freshRunId(prefix = "t"): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${++n}`;
}

export function freshWorkspace(files: Record<string, string> = {}): string {
  const ws = mkdtempSync(join(tmpdir(), "ws-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(ws, name, ".."), { recursive: true });
    writeFileSync(join(ws, name), text);
  }
  return ws;
}

export function planFor(over: Partial<BottlePlan> & Pick<BottlePlan, "proxySocket" | "cwd">): BottlePlan {
  return { runId: freshRunId(), label: "test", agent: "tester", provider: "claude", workspace: "bind", env: {}, ...over };
}

/** A non-loopback IPv4 address of this host (for the "service on 0.0.0.0" test). */
export function hostLanAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return undefined;
}
