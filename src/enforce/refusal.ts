/**
 * The refusal a budget sends instead of forwarding a request. It must look like the provider's own error, so
 * that the agent shows it and stops, and it must be one the agent does not retry: Claude Code and the
 * official SDKs retry a plain 429 with backoff for minutes, which would hammer the proxy and hide the reason.
 *
 * - Anthropic format: HTTP 402 `billing_error`. Neither the SDK nor Claude Code retries a 402 (they retry 408,
 *   409, 429 and 5xx only), and `x-should-retry: false` is set too, which both obey before looking at status.
 * - OpenAI format: HTTP 429 `insufficient_quota` with `x-should-retry: false`. The openai SDK obeys the header
 *   before its 429 rule, and Codex treats `insufficient_quota` as a quota error it does not retry.
 *
 * tests/enforce/refusal-sdk.test.ts checks both with the real SDKs against a real listener.
 */
import type { ProviderName } from "../manifest/types.ts";
import { classifyRoute } from "../metering/route.ts";

export type ErrorStyle = "anthropic" | "openai";

/** Picks the error shape from the API the request speaks (pi speaks either), else from the provider. */
export function errorStyleFor(method: string, path: string, provider?: ProviderName): ErrorStyle {
  const route = classifyRoute(method, path);
  if (route) return route.format === "anthropic-messages" ? "anthropic" : "openai";
  return provider === "codex" ? "openai" : "anthropic";
}

function requestId(): string {
  return `req_bottle_${crypto.randomUUID().replaceAll("-", "")}`;
}

/** A ready HTTP response refusing one request with `message`. */
export function refusalResponse(style: ErrorStyle, message: string): Response {
  const headers = new Headers({
    "content-type": "application/json",
    "x-should-retry": "false",
    "x-bottle-refusal": "budget",
  });
  if (style === "anthropic") {
    const id = requestId();
    headers.set("request-id", id);
    const body = { type: "error", error: { type: "billing_error", message }, request_id: id };
    return new Response(JSON.stringify(body), { status: 402, headers });
  }
  headers.set("x-request-id", requestId());
  const body = { error: { message, type: "insufficient_quota", param: null, code: "insufficient_quota" } };
  return new Response(JSON.stringify(body), { status: 429, headers });
}

/** Facts a budget refusal states. */
export interface RefusalFacts {
  /** "agent reviewer budget from /home/u/.bottle/agents/reviewer.md" (see describeScope). */
  scope: string;
  provider: ProviderName;
  used: number;
  limit: number;
  /** e.g. "per day (UTC)", or "no window". */
  window: string;
  /** Present when preflight refused a reservation that would not fit. */
  requested?: number;
  /** When the window resets (ms), if it has one. */
  resetsAt?: number;
}

export function budgetRefusalMessage(f: RefusalFacts): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const head = f.requested !== undefined
    ? `bottle: request refused, it could use up to ${n(f.requested)} ${f.provider} tokens and the ${f.scope} has ${n(Math.max(0, f.limit - f.used))} left`
    : `bottle: ${f.provider} budget exhausted, the ${f.scope} is used up`;
  const window = f.window === "no window" ? "" : ` ${f.window}`;
  const resets = f.resetsAt !== undefined ? `; it resets at ${new Date(f.resetsAt).toISOString()}` : "";
  return `${head}: ${n(f.used)} of ${n(f.limit)} tokens used${window}${resets}. See \`bottle budget show\`.`;
}

/** The message for a run that was cut off (by policy after a budget crossed, or by `bottle budget cutoff`). */
export function cutoffMessage(runId: string, reason: string): string {
  return `bottle: run ${runId} is cut off (${reason}); no further requests are forwarded. Lift it with \`bottle budget restore ${runId}\`.`;
}
