/**
 * CONNECT handling on a run's listener. Bun.serve cannot tunnel CONNECT, so node:http accepts it (front.ts
 * takes well-formed CONNECTs to metered hosts itself, with helloVerdict and mitmTarget from here) and this
 * module decides: deny (a readable 403), tunnel (`mitm: false`: raw bytes piped to the target, so the agent
 * sees the real server's certificate; only to port 443 and only after tunnel-gate.ts has checked the
 * ClientHello's server name), or MITM (the TLS stream is relayed into the run's Bun.serve listener by socket-relay.ts).
 * Before piping a MITM tunnel it reads the ClientHello: anything that is not TLS is dropped, and an SNI that
 * differs from the CONNECT host gets a fatal TLS alert. Every outcome is audited; no input can crash it.
 */
import type { IncomingMessage } from "node:http";
import { connect as netConnect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { parseClientHello, TLS_ALERT_UNRECOGNIZED_NAME } from "./client-hello.ts";
import type { ExchangeTarget } from "./exchange.ts";
import type { AuditRecord, ProxyRequestContext } from "./hooks.ts";
import { decide, normalizeHost, tunnelTarget, type Decision } from "./routes.ts";
import { emitAudit, exchangeId, type RunContext } from "./run-context.ts";
import { closeGracefully, relayToUnix } from "./socket-relay.ts";
import { readClientHello, tunnelHelloVerdict, tunnelPortVerdict } from "./tunnel-gate.ts";

export interface ConnectDeps {
  run: RunContext;
  /** The unix socket of the MITM listener for this target (started on first use). */
  mitmSocket(target: ExchangeTarget): string;
}

/** Parses `host:port` / `[v6]:port`; undefined when malformed. */
export function parseAuthority(s: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9._-]+)):(\d{1,5})$/.exec(s.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: normalizeHost(m[1] ?? m[2]!), port };
}

export function rawResponse(status: number, statusText: string, reason: string, extra = ""): string {
  const body = `bottle: ${reason}\n`;
  const safe = reason.replace(/[^\x20-\x7e]/g, "?").slice(0, 200);
  return `HTTP/1.1 ${status} ${statusText}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Bottle-Reason: ${safe}\r\n${extra}Connection: close\r\n\r\n${body}`;
}

/** The exchange target of an intercepted CONNECT. */
export function mitmTarget(auth: { host: string; port: number }, decision: Extract<Decision, { kind: "mitm" }>): ExchangeTarget {
  return { scheme: "https", host: auth.host, port: auth.port, route: decision.route, ...(decision.provider ? { provider: decision.provider } : {}) };
}

export type HelloVerdict =
  | { kind: "wait" }
  | { kind: "ok" }
  | { kind: "reject"; status: number; decision: "error" | "refuse"; reason: string; alert?: Uint8Array };

/** What to do with the bytes a client sent after an intercepted CONNECT. Pure. */
export function helloVerdict(buf: Uint8Array, host: string): HelloVerdict {
  const hello = parseClientHello(buf);
  if (hello.kind === "incomplete") return { kind: "wait" };
  if (hello.kind === "not-tls") return { kind: "reject", status: 400, decision: "error", reason: "garbage after CONNECT: not a TLS ClientHello" };
  if (hello.sni !== undefined && normalizeHost(hello.sni) !== host) {
    return { kind: "reject", status: 421, decision: "refuse", reason: `TLS server name ${hello.sni} does not match CONNECT host ${host}`, alert: TLS_ALERT_UNRECOGNIZED_NAME };
  }
  return { kind: "ok" };
}

export const NO_HELLO_REASON = "no TLS ClientHello after CONNECT";

export function handleConnect(deps: ConnectDeps, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const { run } = deps;
  const startedAt = Date.now();
  const auth = parseAuthority(req.url ?? "");
  const audit = (r: Omit<AuditRecord, "time" | "runId" | "method" | "durationMs" | "path">): void =>
    emitAudit(run, { time: startedAt, runId: run.runId, method: "CONNECT", path: "", durationMs: Date.now() - startedAt, ...r });
  socket.on("error", () => socket.destroy());
  if (!auth) {
    const reason = `malformed CONNECT target ${JSON.stringify((req.url ?? "").slice(0, 100))}`;
    audit({ host: "", status: 400, decision: "error", reason, bytesUp: 0, bytesDown: 0 });
    socket.end(rawResponse(400, "Bad Request", reason));
    return;
  }
  const decision = decide(run.routes, auth.host, run.provider, run.allowlist);
  if (decision.kind === "deny") {
    audit({ host: auth.host, status: 403, decision: "deny", reason: decision.reason, bytesUp: 0, bytesDown: 0 });
    socket.end(rawResponse(403, "Forbidden", decision.reason));
    return;
  }
  if (decision.kind === "tunnel") {
    void tunnel(deps, socket, head, auth, decision.route, audit);
    return;
  }
  let socketPath: string;
  try {
    socketPath = deps.mitmSocket(mitmTarget(auth, decision));
  } catch (e) {
    const reason = `cannot intercept ${auth.host}: ${String(e)}`;
    audit({ host: auth.host, status: 502, decision: "error", reason, bytesUp: 0, bytesDown: 0 });
    socket.end(rawResponse(502, "Bad Gateway", reason));
    return;
  }
  socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
  awaitHello(deps, socket, head, auth.host, socketPath, audit);
}

function awaitHello(deps: ConnectDeps, socket: Duplex, head: Buffer, host: string, socketPath: string, audit: (r: Omit<AuditRecord, "time" | "runId" | "method" | "durationMs" | "path">) => void): void {
  let buf = head;
  const timer = setTimeout(() => {
    cleanup();
    audit({ host, status: 408, decision: "error", reason: NO_HELLO_REASON, bytesUp: buf.length, bytesDown: 0 });
    socket.destroy();
  }, deps.run.limits.helloTimeoutMs);
  const onData = (d: Buffer): void => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    check();
  };
  const onClose = (): void => cleanup();
  const cleanup = (): void => {
    clearTimeout(timer);
    socket.off("data", onData);
    socket.off("close", onClose);
  };
  const check = (): void => {
    const v = helloVerdict(buf, host);
    if (v.kind === "wait") return;
    cleanup();
    if (v.kind === "reject") {
      audit({ host, status: v.status, decision: v.decision, reason: v.reason, bytesUp: buf.length, bytesDown: 0 });
      if (v.alert) socket.end(v.alert);
      else socket.destroy();
      return;
    }
    relayToUnix(socket, socketPath, buf);
  };
  socket.on("data", onData);
  socket.on("close", onClose);
  if (buf.length) check();
}

async function tunnel(deps: ConnectDeps, socket: Duplex, head: Buffer, auth: { host: string; port: number }, route: ExchangeTarget["route"], audit: (r: Omit<AuditRecord, "time" | "runId" | "method" | "durationMs" | "path">) => void): Promise<void> {
  const { run } = deps;
  const port = tunnelPortVerdict(auth.host, auth.port);
  if (!port.ok) {
    audit({ host: auth.host, status: port.status, decision: "refuse", reason: port.reason, bytesUp: 0, bytesDown: 0 });
    socket.end(rawResponse(port.status, "Forbidden", port.reason));
    return;
  }
  if (run.hooks.admit) {
    const ctx: ProxyRequestContext = {
      id: exchangeId(run.runId), runId: run.runId, method: "CONNECT", host: auth.host, port: auth.port, path: "",
      upstreamUrl: `tcp://${auth.host}:${auth.port}`, route, requestHeaders: new Headers(), startedAt: Date.now(), state: {},
    };
    let verdict;
    try {
      verdict = await run.hooks.admit(ctx, new Uint8Array(0));
    } catch (e) {
      verdict = { allow: false as const, response: new Response(`admission failed: ${String(e)}`, { status: 503 }) };
    }
    if (!verdict.allow) {
      const text = (await verdict.response.text().catch(() => "")).slice(0, 500) || "refused";
      audit({ host: auth.host, status: verdict.response.status, decision: "refuse", reason: text, bytesUp: 0, bytesDown: 0 });
      socket.end(rawResponse(verdict.response.status, "Refused", text));
      return;
    }
  }
  // The ClientHello comes only after the 200, and nothing reaches the upstream before it is checked.
  socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
  const { hello, bytes } = await readClientHello(socket, head, run.limits.helloTimeoutMs);
  const gate = tunnelHelloVerdict(auth.host, hello);
  if (!gate.ok) {
    audit({ host: auth.host, status: gate.status, decision: "refuse", reason: gate.reason, bytesUp: bytes.length, bytesDown: 0 });
    if (gate.status === 421) socket.end(TLS_ALERT_UNRECOGNIZED_NAME);
    else socket.destroy();
    return;
  }
  const dest = tunnelTarget(route, auth.host, auth.port);
  let up = bytes.length;
  let down = 0;
  let established = false;
  const upstream: Socket = netConnect(dest.port, dest.host);
  upstream.on("connect", () => {
    established = true;
    upstream.write(bytes);
    socket.on("data", (d: Buffer) => void (up += d.length));
    upstream.on("data", (d: Buffer) => void (down += d.length));
    socket.pipe(upstream);
    upstream.pipe(socket);
    socket.resume();
  });
  let done = false;
  const finish = (err?: Error): void => {
    if (done) return;
    done = true;
    if (!established) {
      const reason = `cannot reach ${dest.host}:${dest.port}: ${err?.message ?? "closed"}`;
      audit({ host: auth.host, status: 502, decision: "error", reason, bytesUp: 0, bytesDown: 0 });
      socket.destroy();
      return;
    }
    audit({ host: auth.host, status: 200, decision: "tunnel", bytesUp: up, bytesDown: down });
    closeGracefully(socket);
    closeGracefully(upstream);
  };
  upstream.on("error", (e) => finish(e));
  upstream.on("close", () => finish());
  socket.on("close", () => {
    if (established) finish();
    else upstream.destroy();
  });
}
