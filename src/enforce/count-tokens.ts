/**
 * `preflight: provider`: ask the provider's own counting endpoint how many input tokens a request carries,
 * through the same upstream (and the same injected credential) the request itself will use. Anthropic has
 * POST /v1/messages/count_tokens, OpenAI's Responses API has POST /v1/responses/input_tokens; Chat
 * Completions has none, so those requests use the local estimate. Any failure (no endpoint, non-2xx, a
 * timeout, an answer without a count) returns undefined and the caller falls back to the estimate.
 */
import type { RequestShape } from "./request-shape.ts";

const ANTHROPIC_COUNT_FIELDS = ["model", "messages", "system", "tools", "tool_choice", "thinking", "mcp_servers"];
const OPENAI_COUNT_FIELDS = ["model", "input", "instructions", "tools", "tool_choice", "text", "reasoning", "previous_response_id", "conversation", "parallel_tool_calls", "truncation"];

export interface CountCall {
  url: string;
  body: string;
}

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
}

/** The counting call for a request that will go to `upstreamUrl`, or undefined when the API has none. */
export function countCallFor(shape: RequestShape, upstreamUrl: string): CountCall | undefined {
  const u = new URL(upstreamUrl);
  const path = u.pathname.replace(/\/+$/, "");
  if (shape.format === "anthropic-messages") {
    u.pathname = `${path}/count_tokens`;
    return { url: u.toString(), body: JSON.stringify(pick(shape.json, ANTHROPIC_COUNT_FIELDS)) };
  }
  if (shape.format === "openai-responses") {
    u.pathname = `${path}/input_tokens`;
    return { url: u.toString(), body: JSON.stringify(pick(shape.json, OPENAI_COUNT_FIELDS)) };
  }
  return undefined;
}

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** Performs the counting call; `headers` must already carry the upstream credential. */
export async function countViaProvider(call: CountCall, headers: Headers, fetcher: FetchLike = fetch, timeoutMs = 5_000): Promise<number | undefined> {
  const h = new Headers(headers);
  h.set("content-type", "application/json");
  h.delete("content-length");
  h.set("accept", "application/json");
  try {
    const res = await fetcher(call.url, { method: "POST", headers: h, body: call.body, signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) {
      await res.body?.cancel();
      return undefined;
    }
    const json = (await res.json()) as { input_tokens?: unknown };
    const n = json.input_tokens;
    return typeof n === "number" && Number.isFinite(n) && n >= 0 ? Math.ceil(n) : undefined;
  } catch {
    return undefined;
  }
}
