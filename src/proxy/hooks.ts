/**
 * The seam between transport and policy. The proxy moves bytes and calls these hooks; metering, budgets and
 * the ledger live behind them (wired up in src/enforce). The proxy itself never imports budget or ledger code.
 */
import type { EgressLogLevel, ProviderName, Route } from "../manifest/types.ts";

/** Everything a hook needs to know about one proxied HTTP exchange (or one tunnel). */
export interface ProxyRequestContext {
  /** Unique per exchange. */
  id: string;
  /** The run the connection arrived for (known from the per-run listener). */
  runId: string;
  method: string;
  /** Host the client asked for (CONNECT target / Host header), lowercase, no port. */
  host: string;
  port: number;
  /** Path and query as the client sent them. */
  path: string;
  /** The URL the proxy sends upstream (after `upstream:` rewriting). */
  upstreamUrl: string;
  /** The matched route; undefined when the request is being denied. */
  route?: Route;
  /** The provider whose usage this exchange carries, if it is a metered API host. */
  provider?: ProviderName;
  /** Request headers as received from the client (before auth injection). */
  requestHeaders: Headers;
  /** ms since epoch. */
  startedAt: number;
  /** Free slot for hook implementations to keep per-exchange state (e.g. a metering parser). */
  state: Record<string, unknown>;
  /**
   * Set by a hook to describe a forwarded exchange differently in its audit record (e.g. `unmetered`, with
   * the rule that allowed it); refusals and errors keep their own decision.
   */
  audit?: { decision: AuditDecision; reason?: string };
}

/**
 * A refusal may say why, for the audit record (default "refused by admission"). An allow may carry a
 * replacement body, which is what is sent upstream (the pre-flight clamp lowers `max_tokens`).
 */
export type Admission = { allow: true; body?: Uint8Array } | { allow: false; response: Response; reason?: string };

/** `unmetered`: forwarded from a metered host on a path its route opted out of metering. */
export type AuditDecision = "mitm" | "tunnel" | "deny" | "refuse" | "error" | "unmetered";

export interface AuditRecord {
  time: number;
  runId: string;
  host: string;
  method: string;
  path: string;
  status: number;
  decision: AuditDecision;
  reason?: string;
  bytesUp: number;
  bytesDown: number;
  durationMs: number;
}

export interface ProxyHooks {
  /**
   * Called once the request body is read (bodies are bounded), before anything is sent upstream. May return a
   * replacement body (e.g. to add `stream_options.include_usage`).
   */
  onRequest?(ctx: ProxyRequestContext, body: Uint8Array): void | { body?: Uint8Array } | Promise<void | { body?: Uint8Array }>;
  /** Admission: allow (maybe with a new body), or refuse with a ready response. Called after onRequest with the final body. */
  admit?(ctx: ProxyRequestContext, body: Uint8Array): Admission | Promise<Admission>;
  /** Upstream answered. */
  onResponseStart?(ctx: ProxyRequestContext, status: number, headers: Headers): void;
  /**
   * Each decoded response chunk, as it arrives. Returning bytes replaces what the client receives for this
   * chunk (used to strip an injected usage-only chunk); returning undefined forwards the chunk unchanged.
   * Must be fast and must never throw (the proxy guards it anyway). The chunk is the very buffer the client
   * receives next (no copy is made for the hook): read it, keep it if needed (it is never reused), never
   * write into it.
   */
  onResponseChunk?(ctx: ProxyRequestContext, chunk: Uint8Array): Uint8Array | void;
  /** The response finished normally. */
  onResponseEnd?(ctx: ProxyRequestContext): void | Promise<void>;
  /** The exchange ended early: client went away, upstream cut, or an error. */
  onAbort?(ctx: ProxyRequestContext, reason: "client" | "upstream" | "error", error?: unknown): void | Promise<void>;
  /** A WebSocket message relayed inside a MITM'd tunnel, if WebSockets are relayed. */
  onWebSocketMessage?(ctx: ProxyRequestContext, direction: "up" | "down", data: string | Uint8Array): void;
  /** One audit record per request or tunnel; `log` is the run's egress log level. */
  onAudit?(record: AuditRecord, log: EgressLogLevel): void;
}
