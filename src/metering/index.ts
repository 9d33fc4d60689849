/**
 * The metering entry point the proxy hooks drive. `selectMeter` looks at a request and returns a Meter for
 * exchanges that carry token usage (Anthropic Messages, OpenAI Chat Completions, OpenAI Responses, and their
 * token-count endpoints), or undefined for everything else. Parsers are pure and never throw; every Meter
 * method is safe to call from the proxy's hot path.
 *
 * Calling sequence (one Meter per exchange, kept in `ctx.state`):
 *   onRequest(ctx, body)        meter = selectMeter({...ctx, requestBody: body});
 *                               const body2 = meter.prepareRequest(body)   // send body2 upstream
 *   onResponseStart(ctx, s, h)  meter.onResponseStart(s, h)
 *   onResponseChunk(ctx, c)     return meter.push(c)        // undefined: forward c; bytes: forward those
 *   onResponseEnd(ctx)          const tail = meter.flush(); // bytes still owed to the client (rare; send
 *                                                           // before closing if the proxy can)
 *                               record(meter.end())
 *   onAbort(ctx, …)             record(meter.abort())
 *   onWebSocketMessage(ctx,d,m) record(...meter.onWebSocketMessage(d, m)); on close: record(...meter.closeSocket())
 *
 * Results: `kind: "usage"` counts toward budgets; `kind: "count"` is a token-counting call, recorded as a call
 * with zero usage. A non-2xx response keeps its routed kind with zero usage and `errored: true` (status >= 400),
 * not estimated: an error body carries no tokens. `end()` and `abort()` are idempotent (the first one wins).
 */
import type { ProviderName } from "../manifest/types.ts";
import { anthropicParser } from "./anthropic/parser.ts";
import { parseObject, type FormatParser } from "./format.ts";
import { ResponseMeter } from "./meter.ts";
import { injectIncludeUsage } from "./openai-chat/include-usage.ts";
import { chatParser } from "./openai-chat/parser.ts";
import { UsageChunkStripper } from "./openai-chat/strip-usage.ts";
import { responsesParser } from "./openai-responses/parser.ts";
import { ResponsesSocketMeter } from "./openai-responses/websocket.ts";
import { resolvedPath } from "./path-policy.ts";
import { classifyRoute } from "./route.ts";
import { newTally, settle } from "./tally.ts";
import type { ApiFormat, MeterResult } from "./types.ts";

export type { MeteredRoute } from "./route.ts";
export { classifyRoute } from "./route.ts";

export interface MeterRequest {
  provider?: ProviderName;
  host: string;
  method: string;
  path: string;
  requestHeaders: Headers;
  requestBody?: Uint8Array;
}

export interface Meter {
  readonly format: ApiFormat;
  readonly kind: "usage" | "count";
  readonly transport: "http" | "websocket";
  /** The body to send upstream (Chat streams get `stream_options.include_usage`); unchanged otherwise. */
  prepareRequest(body: Uint8Array): Uint8Array;
  onResponseStart(status: number, headers: Headers): void;
  /** Observe a decoded response chunk. Returns replacement bytes for the client, or undefined to forward it. */
  push(chunk: Uint8Array): Uint8Array | undefined;
  /** Bytes still held for the client when the body ends (only when filtering; usually none). */
  flush(): Uint8Array | undefined;
  /** Usage known so far, while the response is still streaming. */
  snapshot(): MeterResult;
  end(): MeterResult;
  /** `sent`: the request reached the upstream, which bills its input whatever comes back. */
  abort(sent?: boolean): MeterResult;
  /** A relayed WebSocket message; returns a result for each response that finished with it. */
  onWebSocketMessage(direction: "up" | "down", data: string | Uint8Array): MeterResult[];
  /** The WebSocket closed; returns the interrupted in-flight response, if any. */
  closeSocket(): MeterResult[];
}

const PARSERS: Record<ApiFormat, FormatParser> = {
  "anthropic-messages": anthropicParser,
  "openai-chat": chatParser,
  "openai-responses": responsesParser,
};

/** A Meter for this request, or undefined when the path carries no token usage. */
function guarded<T>(fn: () => T, fallback: () => T): T {
  try {
    return fn();
  } catch {
    return fallback();
  }
}

export function selectMeter(req: MeterRequest): Meter | undefined {
  const route = classifyRoute(req.method, resolvedPath(req.path), req.requestHeaders);
  if (!route) return undefined;
  const request = req.requestBody ? parseObject(new TextDecoder().decode(req.requestBody)) : undefined;
  const streamRequested = request?.stream === true;
  const model = typeof request?.model === "string" ? request.model : undefined;
  const response = new ResponseMeter({ parser: PARSERS[route.format], kind: route.kind, streamRequested });
  if (req.requestBody) response.requestBytes = req.requestBody.length;
  const socket = route.transport === "websocket" ? new ResponsesSocketMeter() : undefined;
  let stripper: UsageChunkStripper | undefined;
  let filtering = false;

  let seen = 0;

  const withModel = (r: MeterResult): MeterResult => (r.model === undefined && model ? { ...r, model } : r);
  /** Last resort if settling itself failed: the bytes seen, as output, flagged estimated. Never thrown. */
  const fallback = (): MeterResult => {
    const t = newTally(route.format);
    t.deliveredChars = seen;
    return { ...settle(t, { incomplete: true, requestBytes: response.requestBytes }), kind: route.kind };
  };
  const settled = (fn: () => MeterResult): MeterResult => withModel(guarded(fn, fallback));

  return {
    format: route.format,
    kind: route.kind,
    transport: route.transport,
    prepareRequest(body) {
      response.requestBytes = body.length;
      if (route.format !== "openai-chat" || route.kind !== "usage") return body;
      return guarded(() => {
        const r = injectIncludeUsage(body);
        if (r.injected) stripper = new UsageChunkStripper();
        return r.body;
      }, () => body);
    },
    onResponseStart(status, headers) {
      guarded(() => {
        response.start(status, headers);
        const type = headers.get("content-type") ?? "";
        filtering = !!stripper && status >= 200 && status < 300 && (type.includes("text/event-stream") || type === "");
      }, () => undefined);
    },
    push(chunk) {
      seen += chunk.length;
      guarded(() => response.push(chunk), () => undefined);
      if (!filtering || !stripper) return undefined;
      return stripper.push(chunk); // never throws: on an internal failure it releases everything it held
    },
    flush() {
      if (!filtering || !stripper) return undefined;
      filtering = false;
      const tail = stripper.flush();
      return tail.length > 0 ? tail : undefined;
    },
    snapshot: () => settled(() => response.snapshot()),
    end: () => settled(() => response.end()),
    abort: (sent) => settled(() => response.abort(sent)),
    onWebSocketMessage(direction, data) {
      if (!socket) return [];
      return guarded(() => socket.message(direction, data).map(withModel), () => []);
    },
    closeSocket() {
      if (!socket) return [];
      return guarded(() => socket.close().map(withModel), () => []);
    },
  };
}
