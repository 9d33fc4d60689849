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
 * bottle's own trouble is the opposite: a ledger that cannot record usage right now (a full disk, a
 * read-only or damaged file, a lock held longer than the busy timeout) must stop admission, but not for
 * good. `unavailableResponse` is HTTP 503 with `retry-after` and `x-should-retry: true`, shaped as the
 * provider's own overload error (Anthropic `overloaded_error`, OpenAI `server_error`), which the SDKs and
 * agents retry with backoff; it names the ledger and the cause.
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

/** Seconds an agent is told to wait before retrying a request refused for bottle's own trouble. */
export const RETRY_AFTER_S = 2;

/** A retryable refusal: the ledger cannot record usage right now (never a budget decision). */
export function unavailableResponse(style: ErrorStyle, message: string, retryAfterS = RETRY_AFTER_S, why: "ledger" | "held" = "ledger"): Response {
  const headers = new Headers({
    "content-type": "application/json",
    "retry-after": String(retryAfterS),
    "x-should-retry": "true",
    "x-bottle-refusal": why,
  });
  if (style === "anthropic") {
    const id = requestId();
    headers.set("request-id", id);
    const body = { type: "error", error: { type: "overloaded_error", message }, request_id: id };
    return new Response(JSON.stringify(body), { status: 503, headers });
  }
  headers.set("x-request-id", requestId());
  const body = { error: { message, type: "server_error", param: null, code: why === "ledger" ? "ledger_unavailable" : "budget_room_held" } };
  return new Response(JSON.stringify(body), { status: 503, headers });
}

/** The message of a retryable refusal: which ledger, why, and that nothing was sent. */
export function ledgerUnavailableMessage(file: string | undefined, cause: string): string {
  return `bottle: request not sent, the budget ledger${file ? ` ${file}` : ""} cannot record usage right now (${cause}); nothing is sent unmetered. Retry shortly; this is not a budget refusal.`;
}

/** clamp: a retryable refusal while the budget's room is held by requests in flight (it comes back as they settle). */
export function heldMessage(f: RefusalFacts): string {
  const n = (x: number) => x.toLocaleString("en-US");
  return `bottle: request not sent yet, the ${f.scope} has room for it once the requests in flight finish (${n(f.used)} of ${n(f.limit)} ${f.provider} tokens used or held; this request needs ${n(f.requested ?? 0)}). Retry shortly; this is not a budget refusal.`;
}
