/**
 * Which wire format an exchange speaks, from its method and path alone. Matching is on the path suffix so a
 * route's `upstream:` rewrite, a gateway prefix (`/openai/v1/…`) or the ChatGPT backend Codex uses
 * (`/backend-api/codex/responses`) are metered the same way as the public API paths. Anything else (model
 * lists, file uploads, batch management) carries no token usage and gets no meter.
 */
import type { ApiFormat } from "./types.ts";

export interface MeteredRoute {
  format: ApiFormat;
  /** `count`: a token-counting call, recorded as a call and never as usage. */
  kind: "usage" | "count";
  /** `websocket`: a Responses WebSocket upgrade; usage arrives in message frames. */
  transport: "http" | "websocket";
}

export function classifyRoute(method: string, path: string, headers?: Headers): MeteredRoute | undefined {
  const q = path.search(/[?#]/);
  let p = q >= 0 ? path.slice(0, q) : path;
  while (p.length > 1 && p.endsWith("/")) p = p.slice(0, -1);
  const m = method.toUpperCase();
  if (m === "GET" && p.endsWith("/responses") && isWebSocketUpgrade(headers)) {
    return { format: "openai-responses", kind: "usage", transport: "websocket" };
  }
  if (m !== "POST") return undefined;
  if (p.endsWith("/messages/count_tokens")) return http("anthropic-messages", "count");
  if (p.endsWith("/messages")) return http("anthropic-messages", "usage");
  if (p.endsWith("/chat/completions")) return http("openai-chat", "usage");
  if (p.endsWith("/responses/input_tokens")) return http("openai-responses", "count");
  if (p.endsWith("/responses")) return http("openai-responses", "usage");
  return undefined;
}

function http(format: ApiFormat, kind: "usage" | "count"): MeteredRoute {
  return { format, kind, transport: "http" };
}

function isWebSocketUpgrade(headers: Headers | undefined): boolean {
  return (headers?.get("upgrade") ?? "").toLowerCase() === "websocket";
}
