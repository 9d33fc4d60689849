/**
 * The gate in front of a `mitm: false` tunnel. A tunnel relays bytes the proxy cannot read, so without a
 * gate a route for one host would be a raw TCP pipe to any port of it (ssh, a database, a host service on
 * loopback), and a client could name an allowed host in CONNECT while its TLS asks for another (domain
 * fronting). So a tunnel opens only to port 443, and only after the client's first TLS record is a
 * ClientHello whose server name is the CONNECT host. Kept apart from the CONNECT plumbing: the verdicts are
 * pure, and `readClientHello` only collects bytes from a socket.
 */
import type { Duplex } from "node:stream";
import { parseClientHello, type HelloResult } from "./client-hello.ts";
import { normalizeHost } from "./routes.ts";

/** The only port a tunnel may reach: TLS, whose server name the gate can check. */
export const TUNNEL_PORT = 443;

export type TunnelVerdict = { ok: true } | { ok: false; status: number; reason: string };

/** Before anything is sent: the CONNECT port. */
export function tunnelPortVerdict(host: string, port: number): TunnelVerdict {
  if (port === TUNNEL_PORT) return { ok: true };
  return { ok: false, status: 403, reason: `${host}:${port} refused: a mitm: false route tunnels only to port ${TUNNEL_PORT}` };
}

export type HelloOutcome = HelloResult | { kind: "timeout" } | { kind: "closed" };

/** After the client's first bytes: a TLS ClientHello naming exactly the CONNECT host. */
export function tunnelHelloVerdict(host: string, hello: HelloOutcome): TunnelVerdict {
  switch (hello.kind) {
    case "hello":
      if (hello.sni === undefined) return { ok: false, status: 421, reason: `the TLS ClientHello for ${host} names no server (SNI), so the tunnel's destination cannot be checked` };
      if (normalizeHost(hello.sni) !== normalizeHost(host)) return { ok: false, status: 421, reason: `TLS server name ${hello.sni} does not match CONNECT host ${host}` };
      return { ok: true };
    case "not-tls":
      return { ok: false, status: 400, reason: `the tunnel to ${host} did not start with a TLS ClientHello` };
    case "timeout":
      return { ok: false, status: 408, reason: `no TLS ClientHello for ${host} after CONNECT` };
    default:
      return { ok: false, status: 400, reason: `the client closed the tunnel to ${host} before its TLS ClientHello` };
  }
}

/**
 * Collects the client's bytes until they hold a whole first TLS record (or prove they never will), then
 * stops reading and leaves the socket paused. `bytes` is everything read, to be replayed upstream.
 */
export function readClientHello(socket: Duplex, head: Buffer, timeoutMs: number): Promise<{ hello: HelloOutcome; bytes: Buffer }> {
  return new Promise((resolve) => {
    let bytes = head;
    let settled = false;
    const settle = (hello: HelloOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      socket.pause();
      resolve({ hello, bytes });
    };
    const check = (): void => {
      const hello = parseClientHello(bytes);
      if (hello.kind !== "incomplete") settle(hello);
    };
    const onData = (d: Buffer): void => {
      bytes = bytes.length ? Buffer.concat([bytes, d]) : d;
      check();
    };
    const onClose = (): void => settle({ kind: "closed" });
    const timer = setTimeout(() => settle({ kind: "timeout" }), timeoutMs);
    socket.on("data", onData);
    socket.on("close", onClose);
    if (bytes.length) check();
    if (!settled) socket.resume();
  });
}
