/**
 * One intercepted HTTP exchange, from the agent's request to the streamed response. The order is fixed:
 * read the bounded body → onRequest (may rewrite it) → admit (may refuse with a ready response) → call the
 * upstream with hop-by-hop headers removed and secrets injected → onResponseStart → stream the body through
 * the chunk hooks. Every failure closes: a hook that throws before the request is sent refuses it, so no
 * request reaches a metered upstream unseen. A route's key never leaves in cleartext (see custodyProblem).
 */
import { rootCertificates } from "node:tls";
import type { ProviderName, Route } from "../manifest/types.ts";
import { BodyTooLarge, readBounded } from "./body.ts";
import { clientResponseHeaders, upstreamRequestHeaders } from "./headers.ts";
import type { ProxyRequestContext } from "./hooks.ts";
import { passthrough } from "./passthrough.ts";
import { contentCodings, decodeRequestBody } from "./request-encoding.ts";
import { upstreamUrl } from "./routes.ts";
import { auditFor, emitAudit, exchangeId, guard, textResponse, type RunContext } from "./run-context.ts";

export interface ExchangeTarget {
  scheme: "http" | "https";
  host: string;
  port: number;
  route: Route;
  provider?: ProviderName;
}

const NO_BODY_STATUS = new Set([101, 204, 205, 304]);

export function newContext(run: RunContext, t: ExchangeTarget, method: string, path: string, headers: Headers): ProxyRequestContext {
  return {
    id: exchangeId(run.runId),
    runId: run.runId,
    method,
    host: t.host,
    port: t.port,
    path,
    upstreamUrl: upstreamUrl(t.route, t.scheme, t.host, t.port, path),
    route: t.route,
    ...(t.provider ? { provider: t.provider } : {}),
    requestHeaders: headers,
    startedAt: Date.now(),
    state: {},
  };
}

function tlsOptions(run: RunContext): { ca: string[] } | undefined {
  return run.upstreamCa.length > 0 ? { ca: [...rootCertificates, ...run.upstreamCa] } : undefined;
}

function errorCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : e instanceof Error ? e.message : String(e);
}

/**
 * Secret custody: a route's real key goes only over TLS to the route's own host on port 443, or to the
 * `upstream:` the user configured. Anything else (plain http, another port) would hand the key to whatever
 * answers there in cleartext, so it is refused before a byte is sent.
 */
export function custodyProblem(t: ExchangeTarget): string | undefined {
  if (!t.route.auth || t.route.upstream) return undefined;
  if (t.scheme === "https" && t.port === 443) return undefined;
  return `${t.scheme}://${t.host}:${t.port} is refused: the route for ${t.route.host} injects its ${t.route.auth.env} key, which bottle sends only over https to port 443 (or to the route's upstream:); use https://${t.host}/`;
}

export async function handleExchange(run: RunContext, t: ExchangeTarget, req: Request, path: string): Promise<Response> {
  const ctx = newContext(run, t, req.method, path, req.headers);
  const fail = (status: number, decision: "refuse" | "error", reason: string, bytesUp = 0): Response => {
    emitAudit(run, auditFor(ctx, { status, decision, reason, bytesUp, bytesDown: 0 }));
    return textResponse(status, reason);
  };

  const custody = custodyProblem(t);
  if (custody) return fail(403, "refuse", custody);

  let body: Uint8Array;
  try {
    body = await readBounded(req.body, req.headers.get("content-length"), run.limits.maxBodyBytes);
  } catch (e) {
    if (e instanceof BodyTooLarge) return fail(413, "refuse", e.message);
    return fail(400, "error", `could not read the request body: ${String(e)}`);
  }
  // A metered exchange's hooks read the body the upstream will read, so a compressed one is decoded here and
  // sent up plain (see request-encoding.ts).
  let sent = req.headers;
  if (t.provider && contentCodings(req.headers.get("content-encoding")).length > 0) {
    const decoded = decodeRequestBody(body, req.headers.get("content-encoding"), run.limits.maxBodyBytes);
    if (!decoded.ok) return fail(decoded.status, "refuse", decoded.reason, body.byteLength);
    body = decoded.body;
    sent = new Headers(req.headers);
    sent.delete("content-encoding");
    ctx.requestHeaders = sent;
  }
  const hooks = run.hooks;
  try {
    if (hooks.onRequest) {
      const r = await hooks.onRequest(ctx, body);
      if (r && r.body) body = r.body;
    }
    if (hooks.admit) {
      const a = await hooks.admit(ctx, body);
      if (!a.allow) {
        emitAudit(run, auditFor(ctx, { status: a.response.status, decision: "refuse", reason: a.reason ?? "refused by admission", bytesUp: body.byteLength, bytesDown: 0 }));
        return a.response;
      }
      if (a.body) body = a.body;
    }
  } catch (e) {
    return fail(503, "error", `request refused because a metering hook failed (${String(e)})`, body.byteLength);
  }

  const abort = new AbortController();
  req.signal?.addEventListener("abort", () => abort.abort(), { once: true });
  const auth = run.auth.get(t.route);
  const hasBody = body.byteLength > 0 || !["GET", "HEAD"].includes(req.method);
  let upstream: Response;
  try {
    const tls = tlsOptions(run);
    upstream = await fetch(ctx.upstreamUrl, {
      method: req.method,
      headers: upstreamRequestHeaders(sent, auth),
      ...(hasBody ? { body } : {}),
      redirect: "manual",
      signal: abort.signal,
      proxy: false,
      ...(tls ? { tls } : {}),
    } as RequestInit);
  } catch (e) {
    if (hooks.onAbort) Promise.resolve(guard("onAbort", () => hooks.onAbort!(ctx, abort.signal.aborted ? "client" : "error", e))).catch(() => {});
    return fail(502, "error", `upstream ${new URL(ctx.upstreamUrl).host} unreachable: ${errorCode(e)}`, body.byteLength);
  }
  guard("onResponseStart", () => hooks.onResponseStart?.(ctx, upstream.status, upstream.headers));
  const headers = clientResponseHeaders(upstream.headers);
  if (!upstream.body || req.method === "HEAD" || NO_BODY_STATUS.has(upstream.status)) {
    // Recorded before the client has its answer (see passthrough.ts).
    if (hooks.onResponseEnd) await Promise.resolve(guard("onResponseEnd", () => hooks.onResponseEnd!(ctx))).catch(() => {});
    emitAudit(run, auditFor(ctx, { status: upstream.status, decision: "mitm", bytesUp: body.byteLength, bytesDown: 0 }));
    return new Response(null, { status: upstream.status, statusText: upstream.statusText, headers });
  }
  const stream = passthrough(upstream.body, { run, ctx, status: upstream.status, bytesUp: body.byteLength, upstreamAbort: abort });
  return new Response(stream, { status: upstream.status, statusText: upstream.statusText, headers });
}
