/**
 * What every listener of one run shares: the run's identity, its routes and log level, the hooks, the
 * resolved secrets of its `auth:` routes and the proxy's limits. Also the audit emitter, which applies the
 * `egress.log` level: `blocks` keeps only denials, refusals, errors and unmetered exchanges (a route's
 * `unmetered:` opt-in); `full` keeps every request and tunnel.
 */
import type { EgressLogLevel, ProviderName, Route } from "../manifest/types.ts";
import { log } from "../log.ts";
import type { InjectedAuth } from "./headers.ts";
import type { AuditRecord, ProxyHooks, ProxyRequestContext } from "./hooks.ts";

export interface ProxyLimits {
  /**
   * Largest request header block accepted on the proxy listener (bytes); larger gets 431. Inside a MITM
   * tunnel Bun.serve applies its own 16 KiB limit (also 431), raised only by `--max-http-header-size`.
   */
  maxHeaderBytes: number;
  /** Largest request body accepted (bytes); larger gets 413. */
  maxBodyBytes: number;
  /** How long a client may take to send its TLS ClientHello after CONNECT (ms). */
  helloTimeoutMs: number;
  /** How long a client may take to send a whole request head once connected (ms); then 408 (slowloris). */
  headTimeoutMs: number;
}

export const DEFAULT_LIMITS: ProxyLimits = {
  maxHeaderBytes: 16 * 1024,
  maxBodyBytes: 32 * 1024 * 1024,
  helloTimeoutMs: 10_000,
  headTimeoutMs: 10_000,
};

export interface RunContext {
  runId: string;
  routes: Route[];
  log: EgressLogLevel;
  provider?: ProviderName;
  /** How a "no route" denial names this run's allowlist and the way to change it (default: a bottle's). */
  allowlist?: string;
  hooks: ProxyHooks;
  /** Resolved `auth:` secrets, keyed by route. */
  auth: Map<Route, InjectedAuth>;
  limits: ProxyLimits;
  /** Extra CA certificates (PEM) trusted for upstream TLS, besides the system roots. */
  upstreamCa: string[];
}

let seq = 0;
export function exchangeId(runId: string): string {
  seq = (seq + 1) % Number.MAX_SAFE_INTEGER;
  return `${runId}-${Date.now().toString(36)}-${seq.toString(36)}`;
}

export function emitAudit(run: RunContext, record: AuditRecord): void {
  const blocking = record.decision === "deny" || record.decision === "refuse" || record.decision === "error" || record.decision === "unmetered";
  if (!blocking && run.log !== "full") return;
  if (!run.hooks.onAudit) return;
  try {
    run.hooks.onAudit(record, run.log);
  } catch (e) {
    log.warn(`proxy: audit hook failed: ${String(e)}`);
  }
}

export function auditFor(ctx: ProxyRequestContext, fields: Pick<AuditRecord, "status" | "decision" | "bytesUp" | "bytesDown"> & { reason?: string }): AuditRecord {
  return {
    time: ctx.startedAt,
    runId: ctx.runId,
    host: ctx.host,
    method: ctx.method,
    path: ctx.path,
    durationMs: Date.now() - ctx.startedAt,
    ...fields,
    ...(fields.decision === "mitm" && ctx.audit ? ctx.audit : {}),
  };
}

/** Calls a hook that must not break the exchange; a throw is logged and reported as `undefined`. */
export function guard<T>(name: string, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    log.warn(`proxy: ${name} hook threw: ${String(e)}`);
    return undefined;
  }
}

/** A short plain-text answer an agent can read (denials, limits, upstream failures). */
export function textResponse(status: number, message: string, extra: Record<string, string> = {}): Response {
  return new Response(`bottle: ${message}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "x-bottle-reason": message.replace(/[^\x20-\x7e]/g, "?").slice(0, 200), ...extra },
  });
}
