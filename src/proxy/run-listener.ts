/**
 * A run's own listeners: the run is known from the listener a connection arrives on, never from anything
 * the agent says. The unix socket (for the sandbox bridge) is private by file permission; the loopback port
 * (for `bottle proxy` and hosts without a bridge) requires the run's credential in Proxy-Authorization
 * unless the caller opts out. node:http parses the proxy protocol for everything front.ts does not take
 * itself (it listens on a private socket the front hands connections to); malformed request lines and
 * oversized header blocks are answered 400 / 431 and audited, never thrown.
 */
import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { handleConnect, rawResponse, type ConnectDeps } from "./connect.ts";
import { handlePlainRequest } from "./plain-http.ts";
import { emitAudit, type RunContext } from "./run-context.ts";

export const PROXY_USER = "bottle";

function credentialOk(req: IncomingMessage, credential: string): boolean {
  return credentialMatches(req.headers["proxy-authorization"], credential);
}

/** Whether a Proxy-Authorization value carries the run's credential (compared in constant time). */
export function credentialMatches(h: string | undefined, credential: string): boolean {
  if (typeof h !== "string") return false;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(h);
  if (!m) return false;
  const got = Buffer.from(Buffer.from(m[1]!, "base64").toString("utf8"));
  const want = Buffer.from(`${PROXY_USER}:${credential}`);
  return got.length === want.length && timingSafeEqual(got, want);
}

function safeHost(url: string | undefined): string {
  try {
    return new URL(url ?? "").hostname;
  } catch {
    return "";
  }
}

export function createRunServer(deps: ConnectDeps, credential?: string): Server {
  const run: RunContext = deps.run;
  const server = createServer({ maxHeaderSize: run.limits.maxHeaderBytes });
  const authFailed = (req: IncomingMessage): string | undefined => {
    if (credential === undefined || credentialOk(req, credential)) return undefined;
    const reason = "proxy credential missing or wrong (use the proxy URL bottle printed, which carries it)";
    const target = req.method === "CONNECT" ? (req.url ?? "").replace(/:\d+$/, "") : safeHost(req.url);
    emitAudit(run, { time: Date.now(), runId: run.runId, host: target.slice(0, 255), method: req.method ?? "", path: "", status: 407, decision: "deny", reason, bytesUp: 0, bytesDown: 0, durationMs: 0 });
    return rawResponse(407, "Proxy Authentication Required", reason, 'Proxy-Authenticate: Basic realm="bottle"\r\n');
  };
  server.on("connect", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      const denied = authFailed(req);
      if (denied) {
        socket.on("error", () => {});
        socket.end(denied);
        return;
      }
      handleConnect(deps, req, socket, head);
    } catch (e) {
      socket.destroy(e instanceof Error ? e : undefined);
    }
  });
  server.on("request", (req, res) => {
    const denied = authFailed(req);
    if (denied) {
      req.socket.end(denied);
      return;
    }
    handlePlainRequest(run, req, res).catch(() => res.destroy());
  });
  server.on("clientError", (err: Error & { code?: string }, socket: Duplex) => {
    const tooBig = err.code === "HPE_HEADER_OVERFLOW";
    const status = tooBig ? 431 : 400;
    const reason = tooBig ? `request headers exceed ${run.limits.maxHeaderBytes} bytes` : `malformed request (${err.code ?? err.message})`;
    emitAudit(run, { time: Date.now(), runId: run.runId, host: "", method: "", path: "", status, decision: "error", reason, bytesUp: 0, bytesDown: 0, durationMs: 0 });
    socket.on("error", () => {});
    if (!(socket as Duplex & { writable: boolean }).writable) return void socket.destroy();
    // Keep reading what the client is still sending: closing with unread bytes resets the connection,
    // and the client would never see the answer.
    socket.on("data", () => {});
    socket.resume();
    socket.end(rawResponse(status, tooBig ? "Request Header Fields Too Large" : "Bad Request", reason));
    setTimeout(() => socket.destroy(), 2000).unref();
  });
  return server;
}
