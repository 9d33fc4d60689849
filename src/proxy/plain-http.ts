/**
 * Plain-HTTP proxy requests (`GET http://host/path`, what clients send for `http://` URLs through
 * HTTP_PROXY). node:http parses them; this adapter turns them into a fetch Request, runs the same exchange
 * as an intercepted HTTPS request, and streams the Response back, cancelling the upstream when the client
 * goes away.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { handleExchange } from "./exchange.ts";
import { hostHeaderName } from "./mitm-listener.ts";
import { decide, normalizeHost } from "./routes.ts";
import { emitAudit, type RunContext } from "./run-context.ts";

function headersOf(req: IncomingMessage): Headers {
  const h = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) h.append(raw[i]!, raw[i + 1]!);
  return h;
}

export async function sendResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((v, k) => {
    const prev = headers[k];
    headers[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  });
  res.writeHead(response.status, response.statusText, headers);
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  res.on("close", () => {
    if (!res.writableFinished) reader.cancel(new Error("client disconnected")).catch(() => {});
  });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await new Promise<void>((r) => res.once("drain", () => r()));
    }
    res.end();
  } catch {
    res.destroy();
  }
}

export async function handlePlainRequest(run: RunContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const startedAt = Date.now();
  const refuse = (status: number, decision: "deny" | "refuse" | "error", host: string, path: string, reason: string): Promise<void> => {
    emitAudit(run, { time: startedAt, runId: run.runId, host, method: req.method ?? "", path, status, decision, reason, bytesUp: 0, bytesDown: 0, durationMs: Date.now() - startedAt });
    const body = `bottle: ${reason}\n`;
    res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(body), "x-bottle-reason": reason.replace(/[^\x20-\x7e]/g, "?").slice(0, 200) });
    res.end(body);
    return Promise.resolve();
  };
  let url: URL;
  try {
    url = new URL(req.url ?? "");
  } catch {
    return refuse(400, "error", "", (req.url ?? "").slice(0, 200), "this is bottle's egress proxy: send absolute-form proxy requests or CONNECT");
  }
  const path = `${url.pathname}${url.search}`;
  const host = normalizeHost(url.hostname);
  if (url.protocol !== "http:") return refuse(400, "error", host, path, `unsupported scheme ${url.protocol} in a plain proxy request`);
  const hostHeader = req.headers.host;
  if (hostHeader && hostHeaderName(hostHeader) !== host) return refuse(421, "refuse", host, path, `Host header ${hostHeaderName(hostHeader)} does not match the request target ${host}`);
  const decision = decide(run.routes, host, run.provider, run.allowlist);
  if (decision.kind === "deny") return refuse(403, "deny", host, path, decision.reason);
  const port = url.port ? Number(url.port) : 80;
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  const gone = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) gone.abort();
  });
  const request = new Request(url.href, {
    method: req.method ?? "GET",
    signal: gone.signal,
    headers: headersOf(req),
    ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: "half" } : {}),
  } as RequestInit);
  const target = { scheme: "http" as const, host, port, route: decision.route, ...(decision.kind === "mitm" && decision.provider ? { provider: decision.provider } : {}) };
  const response = await handleExchange(run, target, request, path);
  await sendResponse(res, response);
}
