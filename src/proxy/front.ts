/**
 * The front of a run's listeners (its unix socket and its loopback port), on native Bun sockets. Almost all
 * traffic is one kind: a well-formed CONNECT to a metered host, then TLS. For that, this module answers the
 * CONNECT itself, checks the ClientHello (connect.ts's helloVerdict, the same rules as the node:http path)
 * and joins the socket straight to the run's Bun.serve TLS listener, so the bytes of a model call cross the
 * proxy without any Node stream. Bun.serve cannot adopt a socket it did not accept, so that one hop stays.
 *
 * Everything else (plain HTTP proxy requests, `mitm: false` tunnels, denials, a missing credential, and any
 * request head this strict reader does not fully understand) is handed, bytes unchanged, to the run's
 * node:http listener on a private unix socket, which answers exactly as it always has (400, 403, 407, 431,
 * tunnels, plain HTTP). Doubt always takes that path: the fast path only ever accepts what it can prove.
 */
import type { Socket, TCPSocketListener, UnixSocketListener } from "bun";
import { helloVerdict, mitmTarget, NO_HELLO_REASON, parseAuthority, type ConnectDeps } from "./connect.ts";
import { closed, drained, join, pipeEnd, send, type PipeEnd } from "./native-pipe.ts";
import { decide } from "./routes.ts";
import { credentialMatches } from "./run-listener.ts";
import { emitAudit, type RunContext } from "./run-context.ts";

interface Conn {
  phase: "head" | "hello" | "joining" | "joined" | "done";
  buf: Uint8Array;
  /** This socket's end of the pipe once joined. */
  end?: PipeEnd;
  /** Bytes read while the inner socket was still connecting. */
  early: Uint8Array[];
  timer?: ReturnType<typeof setTimeout>;
  host?: string;
  socketPath?: string;
  startedAt: number;
  /** The client closed (perhaps before its inner socket connected). */
  gone?: boolean;
}

interface Inner {
  client: Socket<Conn>;
  first: Uint8Array;
  end?: PipeEnd;
}

const EMPTY = new Uint8Array(0);
const CRLFCRLF = Buffer.from("\r\n\r\n");
const ESTABLISHED = Buffer.from("HTTP/1.1 200 Connection Established\r\n\r\n");
const REQUEST_TIMEOUT = Buffer.from("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
const REQUEST_LINE = /^CONNECT (\S+) HTTP\/1\.1$/;
const HEADER_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[ \t]*(.*?)[ \t]*$/;

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.byteLength === 0) return b;
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}

/**
 * The host and listener socket of a CONNECT the fast path may take, or undefined for anything else. Pure
 * apart from starting the host's TLS listener (mitmSocket), which the node:http path would do as well.
 */
export function fastConnect(deps: ConnectDeps, head: Uint8Array, credential: string | undefined): { host: string; socketPath: string } | undefined {
  for (const b of head) if (b > 0x7e || (b < 0x20 && b !== 0x0d && b !== 0x0a && b !== 0x09)) return undefined;
  const lines = Buffer.from(head).toString("latin1").split("\r\n");
  const m = REQUEST_LINE.exec(lines[0]!);
  if (!m) return undefined;
  let authorization: string | undefined;
  for (let i = 1; i < lines.length - 2; i++) {
    const h = HEADER_LINE.exec(lines[i]!);
    if (!h) return undefined;
    if (lines[i]!.slice(0, 20).toLowerCase().startsWith("proxy-authorization:")) {
      if (authorization !== undefined) return undefined;
      authorization = h[1]!;
    }
  }
  if (credential !== undefined && !credentialMatches(authorization, credential)) return undefined;
  const auth = parseAuthority(m[1]!);
  if (!auth) return undefined;
  const decision = decide(deps.run.routes, auth.host, deps.run.provider, deps.run.allowlist);
  if (decision.kind !== "mitm") return undefined;
  try {
    return { host: auth.host, socketPath: deps.mitmSocket(mitmTarget(auth, decision)) };
  } catch {
    return undefined;
  }
}

export interface FrontOptions {
  deps: ConnectDeps;
  /** Required in Proxy-Authorization for the fast path; the fallback enforces it for everything else. */
  credential?: string;
  /** The run's node:http listener for everything the fast path does not take. */
  fallbackPath: string;
  listen: { unix: string } | { hostname: string; port: number };
}

export interface Front {
  port?: number;
  stop(): void;
}

export function startFront(o: FrontOptions): Front {
  const run: RunContext = o.deps.run;
  const maxHead = run.limits.maxHeaderBytes;

  const innerHandlers = {
    open(s: Socket<Inner>) {
      const { client, first } = s.data;
      const conn = client.data;
      if (conn.gone) return void s.terminate();
      const a = pipeEnd(client as Socket<unknown>);
      const b = pipeEnd(s as Socket<unknown>);
      join(a, b);
      conn.end = a;
      s.data.end = b;
      conn.phase = "joined";
      send(b, first);
      for (const d of conn.early) send(b, d);
      conn.early = [];
      if (b.held.length === 0) client.resume();
    },
    data(s: Socket<Inner>, d: Uint8Array) {
      const b = s.data.end;
      if (b?.peer) send(b.peer, d);
    },
    drain(s: Socket<Inner>) {
      if (s.data.end) drained(s.data.end);
    },
    close(s: Socket<Inner>) {
      if (s.data.end) closed(s.data.end);
      else s.data.client.end();
    },
    error(s: Socket<Inner>) {
      if (s.data.end) closed(s.data.end);
      else s.data.client.end();
    },
    connectError(s: Socket<Inner>) {
      s.data.client.terminate();
    },
  };

  const joinTo = (client: Socket<Conn>, path: string, first: Uint8Array): void => {
    clearTimeout(client.data.timer);
    client.data.phase = "joining";
    client.pause();
    Bun.connect<Inner>({ unix: path, data: { client, first }, socket: innerHandlers }).catch(() => client.terminate());
  };

  const audit = (c: Conn, status: number, decision: "error" | "refuse", reason: string, bytesUp: number): void =>
    emitAudit(run, { time: c.startedAt, runId: run.runId, method: "CONNECT", path: "", durationMs: Date.now() - c.startedAt, host: c.host ?? "", status, decision, reason, bytesUp, bytesDown: 0 });

  const checkHello = (s: Socket<Conn>): void => {
    const c = s.data;
    const v = helloVerdict(c.buf, c.host!);
    if (v.kind === "wait") return;
    clearTimeout(c.timer);
    if (v.kind === "reject") {
      c.phase = "done";
      audit(c, v.status, v.decision, v.reason, c.buf.byteLength);
      if (v.alert) s.end(v.alert);
      else s.terminate();
      return;
    }
    const first = c.buf;
    c.buf = EMPTY;
    joinTo(s, c.socketPath!, first);
  };

  const handlers = {
    open(s: Socket<Conn>) {
      const c: Conn = { phase: "head", buf: EMPTY, early: [], startedAt: Date.now() };
      s.data = c;
      // A whole head within headTimeoutMs of connecting, however the bytes trickle in: a client that sends a
      // byte now and then (slowloris) would otherwise hold its socket and buffer here for ever.
      c.timer = setTimeout(() => {
        if (c.phase !== "head") return;
        c.phase = "done";
        audit(c, 408, "error", `no complete request head within ${Math.round(run.limits.headTimeoutMs / 1000)} s`, c.buf.byteLength);
        c.buf = EMPTY;
        s.end(REQUEST_TIMEOUT);
      }, run.limits.headTimeoutMs);
    },
    data(s: Socket<Conn>, d: Uint8Array) {
      const c = s.data;
      if (c.phase === "joined") return void (c.end?.peer && send(c.end.peer, d));
      if (c.phase === "joining") return void c.early.push(d);
      if (c.phase === "done") return;
      c.buf = concat(c.buf, d);
      if (c.phase === "hello") return checkHello(s);
      const at = Buffer.from(c.buf.buffer, c.buf.byteOffset, c.buf.byteLength).indexOf(CRLFCRLF);
      if (at < 0) {
        if (c.buf.byteLength > maxHead) joinTo(s, o.fallbackPath, c.buf);
        return;
      }
      const fast = at + 4 <= maxHead ? fastConnect(o.deps, c.buf.subarray(0, at + 4), o.credential) : undefined;

      if (!fast) return joinTo(s, o.fallbackPath, c.buf);
      clearTimeout(c.timer);
      c.phase = "hello";
      c.host = fast.host;
      c.socketPath = fast.socketPath;
      c.startedAt = Date.now();
      c.buf = c.buf.subarray(at + 4);
      // A fresh socket takes 39 bytes whole; if it does not, it is already broken.
      if (s.write(ESTABLISHED) !== ESTABLISHED.byteLength) return void s.terminate();
      c.timer = setTimeout(() => {
        if (c.phase !== "hello") return;
        c.phase = "done";
        audit(c, 408, "error", NO_HELLO_REASON, c.buf.byteLength);
        s.terminate();
      }, run.limits.helloTimeoutMs);
      if (c.buf.byteLength > 0) checkHello(s);
    },
    drain(s: Socket<Conn>) {
      if (s.data.end) drained(s.data.end);
    },
    close(s: Socket<Conn>) {
      s.data.gone = true;
      clearTimeout(s.data.timer);
      if (s.data.end) closed(s.data.end);
    },
    error(s: Socket<Conn>) {
      s.data.gone = true;
      clearTimeout(s.data.timer);
      if (s.data.end) closed(s.data.end);
    },
  };

  let listener: TCPSocketListener<Conn> | UnixSocketListener<Conn>;
  if ("unix" in o.listen) listener = Bun.listen<Conn>({ unix: o.listen.unix, socket: handlers });
  else listener = Bun.listen<Conn>({ hostname: o.listen.hostname, port: o.listen.port, socket: handlers });
  return {
    ...("port" in listener ? { port: listener.port } : {}),
    stop: () => listener.stop(true),
  };
}
