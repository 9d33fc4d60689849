/**
 * Streaming passthrough of an upstream response body. Each chunk is forwarded the moment it arrives (nothing
 * is buffered to be read), and the metering hook sees that very chunk first, not a copy: the bytes are
 * read where they pass, so a stream costs no allocation per chunk here. The hook may replace the chunk (to
 * strip a usage-only chunk the proxy asked for); it must not write into it, since the client gets it next. The stream ends in exactly one of three ways, each reported once:
 * the upstream finished (onResponseEnd), the upstream broke (onAbort "upstream") or the client went away
 * (onAbort "client"). The end hook is awaited before the client's stream closes (or errors): every byte is
 * relayed the moment it arrives, but the exchange ends for the client only once its usage is recorded, so
 * a client can never have more exchanges finished-but-uncharged than it has in flight.
 *
 * An upstream that breaks mid-stream is reported as one warning line and the client's stream is ended with
 * an error that carries no value: the client still sees the connection cut (it must not mistake half an
 * answer for a whole one), but Bun does not print the error's stack trace to bottle's stderr.
 */
import { log } from "../log.ts";
import type { ProxyRequestContext } from "./hooks.ts";
import { auditFor, emitAudit, guard, type RunContext } from "./run-context.ts";

export interface PassthroughOptions {
  run: RunContext;
  ctx: ProxyRequestContext;
  status: number;
  bytesUp: number;
  /** Aborts the upstream fetch when the client disconnects. */
  upstreamAbort: AbortController;
}

/** A network error's code (ECONNRESET), or its first line: never a stack. */
function errorName(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code !== "") return code;
  return (e instanceof Error ? e.message : String(e)).split("\n")[0]!.slice(0, 200);
}

export function passthrough(upstream: ReadableStream<Uint8Array>, o: PassthroughOptions): ReadableStream<Uint8Array> {
  const { run, ctx, status, bytesUp } = o;
  const hooks = run.hooks;
  const reader = upstream.getReader();
  let bytesDown = 0;
  let finished = false;

  const finish = (how: "end" | "client" | "upstream", error?: unknown): Promise<void> => {
    if (finished) return Promise.resolve();
    finished = true;
    let done: Promise<unknown> = Promise.resolve();
    if (how === "end") {
      if (hooks.onResponseEnd) done = Promise.resolve(guard("onResponseEnd", () => hooks.onResponseEnd!(ctx)));
    } else if (hooks.onAbort) {
      done = Promise.resolve(guard("onAbort", () => hooks.onAbort!(ctx, how, error)));
    }
    const reason = how === "end" ? undefined : how === "client" ? "client disconnected" : `stream cut: ${errorName(error)}`;
    emitAudit(run, auditFor(ctx, { status, decision: how === "upstream" ? "error" : "mitm", bytesUp, bytesDown, ...(reason ? { reason } : {}) }));
    return done.then(
      () => undefined,
      () => undefined,
    );
  };

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      // Loops only when a hook swallowed a whole chunk: the client must still get the next one.
      for (;;) {
        let r: Awaited<ReturnType<typeof reader.read>>;
        try {
          r = await reader.read();
        } catch (e) {
          if (finished) return;
          const how = o.upstreamAbort.signal.aborted ? "client" : "upstream";
          if (how === "upstream") log.warn(`proxy: ${ctx.method} ${ctx.host}${ctx.path.split("?")[0]}: the upstream cut the stream mid-flight (${errorName(e)}) after ${bytesDown} bytes; the usage seen so far is metered as interrupted`);
          await finish(how, e);
          controller.error(undefined);
          return;
        }
        if (r.done) {
          await finish("end");
          controller.close();
          return;
        }
        let chunk = r.value;
        if (hooks.onResponseChunk) {
          const replaced = guard("onResponseChunk", () => hooks.onResponseChunk!(ctx, chunk));
          if (replaced instanceof Uint8Array) chunk = replaced;
        }
        if (chunk.byteLength === 0) continue;
        bytesDown += chunk.byteLength;
        controller.enqueue(chunk);
        return;
      }
    },
    cancel(reason) {
      void finish("client", reason);
      o.upstreamAbort.abort();
      reader.cancel(reason).catch(() => {});
    },
  }, { highWaterMark: 0 });
}
