/**
 * Header rewriting between the agent and the upstream. Hop-by-hop headers never cross the proxy; with an
 * `auth:` route the agent's placeholder credential is stripped and the real secret, held only by the host
 * process, is injected (secret custody). Responses lose `content-encoding` and `content-length`, because the
 * upstream client decodes the body and the proxy re-streams it: forwarding those headers would describe
 * bytes the agent never receives.
 */
import type { RouteAuth } from "../manifest/types.ts";

const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-authorization",
  "proxy-authenticate",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
];

/** Credential headers an agent may carry; all are removed when the proxy holds the secret. */
export const CREDENTIAL_HEADERS = ["authorization", "x-api-key", "api-key", "x-goog-api-key"];

/** A resolved `auth:` route: the header to set and its full value. */
export interface InjectedAuth {
  header: string;
  value: string;
}

export function resolveAuth(auth: RouteAuth, env: Record<string, string | undefined>): InjectedAuth | undefined {
  const secret = env[auth.env];
  if (secret === undefined || secret === "") return undefined;
  return { header: auth.header.toLowerCase(), value: `${auth.prefix ?? ""}${secret}` };
}

export function upstreamRequestHeaders(incoming: Headers, auth?: InjectedAuth): Headers {
  const out = new Headers();
  const extraHop = (incoming.get("connection") ?? "").split(",").map((s) => s.trim().toLowerCase());
  incoming.forEach((value, name) => {
    const n = name.toLowerCase();
    if (HOP_BY_HOP.includes(n) || extraHop.includes(n)) return;
    if (auth && (CREDENTIAL_HEADERS.includes(n) || n === auth.header)) return;
    out.append(name, value);
  });
  // Compressed bodies are decoded by the proxy's client anyway; asking for identity saves that work.
  out.set("accept-encoding", "identity");
  if (auth) out.set(auth.header, auth.value);
  return out;
}

export function clientResponseHeaders(upstream: Headers): Headers {
  const out = new Headers();
  upstream.forEach((value, name) => {
    const n = name.toLowerCase();
    if (HOP_BY_HOP.includes(n) || n === "content-encoding") return;
    out.append(name, value);
  });
  return out;
}
