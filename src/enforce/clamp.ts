/**
 * `preflight: clamp`: a request that would not fit the budget is made to fit instead of being refused.
 * Agents ask for far more output than they use (Claude Code sends `max_tokens: 64000` on every turn), so a
 * gate that reserves the whole cap refuses the first request of any budget below it. Clamping lowers the
 * request's output cap to what the budget has left after its counted input, and reserves exactly that, so
 * the bound of the reserving modes still holds (charged ≤ limit, save for what the input count misses) while
 * the run spends its budget to the end. A request is refused only when what is left cannot pay for its
 * input plus a small minimum output (MIN_CLAMP_OUTPUT, or the request's own cap when that is smaller).
 *
 * Pure: the output to grant from the room left, and the request body rewritten with that cap. A request with
 * no cap gets one written in, except where the API takes none (the ChatGPT backend Codex signs in to): such
 * a request keeps the `estimate` rule, reserving DEFAULT_OUTPUT_RESERVE.
 */
import { METERED_ENDPOINTS } from "../metering/route.ts";
import { DEFAULT_OUTPUT_RESERVE } from "./estimate.ts";
import type { RequestShape } from "./request-shape.ts";

/** The least output worth sending a request for; below this the request is refused, not clamped. */
export const MIN_CLAMP_OUTPUT = 256;
/** Anthropic's smallest extended-thinking budget; `thinking.budget_tokens` must also stay below `max_tokens`. */
export const MIN_THINKING_BUDGET = 1024;

export interface ClampAsk {
  /** Counted input tokens. */
  input: number;
  /** The output cap the request asks for (or DEFAULT_OUTPUT_RESERVE when it states none). */
  wanted: number;
  /** Whether the cap may be lowered (and written into the body); false keeps the whole cap reserved. */
  adjustable: boolean;
}

/**
 * The output cap to grant a request when `room` tokens are left in its budget, or undefined when it does
 * not fit. Granted output never exceeds what the request asked for, nor `room - input`.
 */
export function grantOutput(room: number, ask: ClampAsk, minOutput = MIN_CLAMP_OUTPUT): number | undefined {
  const left = room - ask.input;
  if (!ask.adjustable) return left >= ask.wanted ? ask.wanted : undefined;
  const least = Math.max(1, Math.min(minOutput, ask.wanted));
  return left >= least ? Math.min(ask.wanted, left) : undefined;
}

/** Which body field carries the output cap, or undefined when the endpoint produces no output (embeddings). */
function capField(shape: RequestShape, path: string): string | undefined {
  const o = shape.json;
  switch (shape.format) {
    case "anthropic-messages":
      return "max_tokens";
    case "openai-responses":
      return "max_output_tokens";
    case "openai-chat": {
      const bare = path.split("?")[0]!;
      const endpoint = METERED_ENDPOINTS.find((e) => bare.endsWith(e.suffix))?.endpoint;
      if (endpoint === "embeddings") return undefined;
      if ("max_completion_tokens" in o) return "max_completion_tokens";
      if ("max_tokens" in o || endpoint === "completions") return "max_tokens";
      return "max_completion_tokens"; // what current chat models take (reasoning models refuse max_tokens)
    }
  }
}

/** What clamping can do with this request: its ask, given its counted input. */
export function clampAsk(shape: RequestShape, path: string, input: number): ClampAsk {
  const field = capField(shape, path);
  if (field === undefined) return { input, wanted: 0, adjustable: false };
  // The ChatGPT backend refuses parameters it does not know; a request there without a cap keeps none.
  const cannotAdd = shape.maxOutput === undefined && /\/backend-api\//.test(path);
  return { input, wanted: shape.maxOutput ?? DEFAULT_OUTPUT_RESERVE, adjustable: !cannotAdd };
}

/** The request body with its output cap set to `cap`; undefined when nothing needs to change. */
export function withOutputCap(shape: RequestShape, path: string, cap: number): Uint8Array | undefined {
  const field = capField(shape, path);
  if (field === undefined || shape.maxOutput === cap) return undefined;
  const json: Record<string, unknown> = { ...shape.json, [field]: cap };
  // Anthropic: a thinking budget must stay under max_tokens (and at or above its minimum), or be dropped.
  const thinking = json.thinking as { type?: unknown; budget_tokens?: unknown } | undefined;
  if (shape.format === "anthropic-messages" && thinking?.type === "enabled" && typeof thinking.budget_tokens === "number" && thinking.budget_tokens >= cap) {
    if (cap - 1 >= MIN_THINKING_BUDGET) json.thinking = { ...thinking, budget_tokens: cap - 1 };
    else delete json.thinking;
  }
  return new TextEncoder().encode(JSON.stringify(json));
}
