/**
 * Which wire format an exchange speaks, from its method and path alone. Matching is on the path suffix so a
 * route's `upstream:` rewrite, a gateway prefix (`/openai/v1/…`) or the ChatGPT backend Codex uses
 * (`/backend-api/codex/responses`) are metered the same way as the public API paths. Every endpoint listed
 * here reports its own usage in its response; anything else (model lists, file uploads, batch management,
 * Anthropic's legacy `/v1/complete`, which reports no usage) gets no meter, and the path policy
 * (./path-policy.ts) refuses it when it would change state.
 */
import type { ApiFormat } from "./types.ts";

/** The endpoint families bottle meters, for logs and docs. */
export type Endpoint = "messages" | "count_tokens" | "chat" | "completions" | "embeddings" | "responses" | "compact" | "input_tokens";

export interface MeteredRoute {
  format: ApiFormat;
  /** `count`: a token-counting call, recorded as a call and never as usage. */
  kind: "usage" | "count";
  /** `websocket`: a Responses WebSocket upgrade; usage arrives in message frames. */
  transport: "http" | "websocket";
}

/** Each metered POST endpoint, by path suffix: longest suffixes first, so `/messages/count_tokens` wins. */
export const METERED_ENDPOINTS: readonly { suffix: string; endpoint: Endpoint; format: ApiFormat; kind: "usage" | "count" }[] = [
  { suffix: "/messages/count_tokens", endpoint: "count_tokens", format: "anthropic-messages", kind: "count" },
  { suffix: "/messages", endpoint: "messages", format: "anthropic-messages", kind: "usage" },
  { suffix: "/chat/completions", endpoint: "chat", format: "openai-chat", kind: "usage" },
  { suffix: "/completions", endpoint: "completions", format: "openai-chat", kind: "usage" },
  { suffix: "/embeddings", endpoint: "embeddings", format: "openai-chat", kind: "usage" },
  { suffix: "/responses/input_tokens", endpoint: "input_tokens", format: "openai-responses", kind: "count" },
  // Remote compaction (Codex uses it on long sessions): a `response.compaction` object with Responses usage.
  { suffix: "/responses/compact", endpoint: "compact", format: "openai-responses", kind: "usage" },
  { suffix: "/responses", endpoint: "responses", format: "openai-responses", kind: "usage" },
];

/** The path without query or fragment and without trailing slashes. */
export function barePath(path: string): string {
  const q = path.search(/[?#]/);
  let p = q >= 0 ? path.slice(0, q) : path;
  while (p.length > 1 && p.endsWith("/")) p = p.slice(0, -1);
  return p;
}

export function classifyRoute(method: string, path: string, headers?: Headers): MeteredRoute | undefined {
  const p = barePath(path);
  const m = method.toUpperCase();
  if (m === "GET" && p.endsWith("/responses") && isWebSocketUpgrade(headers)) {
    return { format: "openai-responses", kind: "usage", transport: "websocket" };
  }
  if (m !== "POST") return undefined;
  const e = METERED_ENDPOINTS.find((x) => p.endsWith(x.suffix));
  return e ? { format: e.format, kind: e.kind, transport: "http" } : undefined;
}

export function isWebSocketUpgrade(headers: Headers | undefined): boolean {
  return (headers?.get("upgrade") ?? "").toLowerCase() === "websocket";
}
