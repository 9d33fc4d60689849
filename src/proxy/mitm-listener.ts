/**
 * The decrypted side of an intercepted tunnel. For each (run, host) the proxy starts one Bun.serve TLS
 * listener on a private unix socket, holding that host's leaf certificate; CONNECT tunnels for the host are
 * piped into it. Because a listener serves exactly one host, a request whose Host header names another host
 * (domain fronting inside an allowed tunnel) is answered 421 here. Bun.serve selects no ALPN protocol, so
 * clients speak HTTP/1.1 (h2 is never negotiated).
 */
import { join } from "node:path";
import type { LeafCert } from "../ca/leaf.ts";
import { handleExchange, newContext, type ExchangeTarget } from "./exchange.ts";
import { normalizeHost } from "./routes.ts";
import { auditFor, emitAudit, textResponse, type RunContext } from "./run-context.ts";

export interface MitmListener {
  key: string;
  socketPath: string;
  stop(): void;
}

/** The host part of a Host header (`host`, `host:port`, `[v6]:port`). */
export function hostHeaderName(value: string): string {
  const v = value.trim();
  if (v.startsWith("[")) return normalizeHost(v.slice(0, v.indexOf("]") + 1));
  const colon = v.lastIndexOf(":");
  return normalizeHost(colon > 0 && v.indexOf(":") === colon ? v.slice(0, colon) : v);
}

let counter = 0;

export function startMitmListener(run: RunContext, target: ExchangeTarget, leaf: LeafCert, socketDir: string): MitmListener {
  const socketPath = join(socketDir, `m${++counter}.sock`);
  const refuse = (req: Request, path: string, status: number, reason: string): Response => {
    const ctx = newContext(run, target, req.method, path, req.headers);
    emitAudit(run, auditFor(ctx, { status, decision: "refuse", reason, bytesUp: 0, bytesDown: 0 }));
    return textResponse(status, reason);
  };
  // idleTimeout 0: a model may think for minutes between streamed bytes.
  const server = Bun.serve({
    unix: socketPath,
    tls: [{ serverName: target.host, cert: leaf.certPem, key: leaf.keyPem }],
    idleTimeout: 0,
    maxRequestBodySize: run.limits.maxBodyBytes * 2,
    fetch(req: Request) {
      const url = new URL(req.url);
      const path = `${url.pathname}${url.search}`;
      const host = req.headers.get("host");
      if (host !== null && hostHeaderName(host) !== target.host) {
        return refuse(req, path, 421, `Host header ${hostHeaderName(host)} does not match the TLS server name ${target.host}`);
      }
      if ((req.headers.get("upgrade") ?? "").toLowerCase() === "websocket") {
        return refuse(req, path, 426, "WebSocket is not relayed by bottle's proxy; use HTTPS streaming");
      }
      return handleExchange(run, target, req, path);
    },
    error(e: Error) {
      return textResponse(500, `proxy error: ${e.message}`);
    },
  } as unknown as Parameters<typeof Bun.serve>[0]);
  return { key: `${target.host}:${target.port}`, socketPath, stop: () => void server.stop(true) };
}
