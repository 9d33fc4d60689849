/**
 * Turning simulated events into HTTP responses: JSON bodies and SSE streams, optionally compressed the way
 * a real upstream would (flushed per event, so compression never delays a chunk), optionally paced, held at
 * a test's gate, or cut mid-stream.
 */
import { brotliCompressSync, constants, createBrotliCompress, createDeflate, createGzip, deflateSync, gzipSync } from "node:zlib";
import type { Transform } from "node:stream";
import type { SimulatorOptions } from "./options.ts";

const enc = new TextEncoder();

/** One SSE frame: `event:` line (when named) and a JSON `data:` line. */
export function sseFrame(event: string | undefined, data: unknown): string {
  const payload = typeof data === "string" ? data : JSON.stringify(data);
  return `${event ? `event: ${event}\n` : ""}data: ${payload}\n\n`;
}

function compressor(kind: NonNullable<SimulatorOptions["compression"]>): Transform {
  if (kind === "gzip") return createGzip({ flush: constants.Z_SYNC_FLUSH });
  if (kind === "deflate") return createDeflate({ flush: constants.Z_SYNC_FLUSH });
  return createBrotliCompress({ flush: constants.BROTLI_OPERATION_FLUSH });
}

export function jsonResponse(o: SimulatorOptions, body: unknown, status = 200, extra: Record<string, string> = {}): Response {
  const raw = enc.encode(JSON.stringify(body));
  const headers: Record<string, string> = { "content-type": "application/json", ...extra };
  if (!o.compression) return new Response(raw, { status, headers });
  const packed = o.compression === "gzip" ? gzipSync(raw) : o.compression === "deflate" ? deflateSync(raw) : brotliCompressSync(raw);
  return new Response(packed, { status, headers: { ...headers, "content-encoding": o.compression } });
}

export function sseResponse(o: SimulatorOptions, frames: string[], extra: Record<string, string> = {}): Response {
  const headers: Record<string, string> = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", ...extra };
  const z = o.compression ? compressor(o.compression) : undefined;
  if (o.compression) headers["content-encoding"] = o.compression;
  let i = 0;
  let cancelled = false;
  const total = frames.length;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      z?.on("data", (d: Buffer) => {
        if (!cancelled) controller.enqueue(new Uint8Array(d));
      });
      z?.on("end", () => {
        if (!cancelled) controller.close();
      });
    },
    async pull(controller) {
      if (cancelled) return;
      if (o.cutAfterEvents !== undefined && i >= o.cutAfterEvents) {
        // Let what was sent reach the client first, as when a connection drops mid-answer.
        await Bun.sleep(Math.max(o.chunkDelayMs, 50));
        cancelled = true;
        controller.error(new Error("simulated upstream cut"));
        return;
      }
      if (i >= total) {
        if (z) await new Promise<void>((r) => z.once("end", () => r()).end());
        else controller.close();
        return;
      }
      if (o.beforeEvent) await o.beforeEvent(i, total);
      if (o.chunkDelayMs > 0) await Bun.sleep(o.chunkDelayMs);
      const bytes = enc.encode(frames[i]!);
      i += 1;
      if (z) await new Promise<void>((r) => z.write(bytes, () => r()));
      else controller.enqueue(bytes);
    },
    cancel() {
      cancelled = true;
      z?.destroy();
    },
  }, { highWaterMark: 0 });
  return new Response(stream, { status: 200, headers });
}
