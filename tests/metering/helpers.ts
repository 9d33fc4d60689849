/**
 * Shared plumbing for the metering tests: read a recorded fixture, drive a Meter through the same calls the
 * proxy hooks make, and cut byte streams at chosen offsets.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { selectMeter, type Meter } from "../../src/metering/index.ts";
import type { MeterResult } from "../../src/metering/types.ts";

const FIXTURES = join(import.meta.dir, "..", "fixtures", "metering");

export function fixture(format: string, name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, format, name)));
}

export function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** LF line endings rewritten to CRLF or CR. */
export function withEndings(b: Uint8Array, eol: "\r\n" | "\r"): Uint8Array {
  return bytes(text(b).replaceAll("\n", eol));
}

export interface Exchange {
  path: string;
  method?: string;
  status?: number;
  contentType?: string;
  requestBody?: string;
  responseHeaders?: Record<string, string>;
}

export interface Driven {
  meter: Meter;
  result: MeterResult;
  /** What the client would receive: forwarded chunks or their replacements, then the flushed tail. */
  client: Uint8Array;
}

export function newMeter(ex: Exchange): Meter {
  const body = ex.requestBody === undefined ? undefined : bytes(ex.requestBody);
  const meter = selectMeter({
    host: "api.example.test",
    method: ex.method ?? "POST",
    path: ex.path,
    requestHeaders: new Headers({ "content-type": "application/json" }),
    requestBody: body,
  });
  if (!meter) throw new Error(`no meter for ${ex.path}`);
  if (body) meter.prepareRequest(body);
  const headers = new Headers(ex.responseHeaders ?? {});
  if (ex.contentType) headers.set("content-type", ex.contentType);
  meter.onResponseStart(ex.status ?? 200, headers);
  return meter;
}

/** Feeds `chunks` and ends normally (or aborts), collecting what the client would see. */
export function drive(ex: Exchange, chunks: Uint8Array[], how: "end" | "abort" = "end"): Driven {
  const meter = newMeter(ex);
  const out: Uint8Array[] = [];
  for (const c of chunks) out.push(meter.push(c) ?? c);
  if (how === "end") {
    const tail = meter.flush();
    if (tail) out.push(tail);
  }
  const result = how === "end" ? meter.end() : meter.abort();
  return { meter, result, client: new Uint8Array(Buffer.concat(out)) };
}

/** The stream cut into two pieces at `at`. */
export function splitAt(b: Uint8Array, at: number): Uint8Array[] {
  return [b.subarray(0, at), b.subarray(at)];
}

/** The stream delivered one byte per chunk. */
export function byteByByte(b: Uint8Array): Uint8Array[] {
  return Array.from(b, (_, i) => b.subarray(i, i + 1));
}

/** Byte offset of the first occurrence of `s` in `b`. */
export function offsetOf(b: Uint8Array, s: string): number {
  const at = Buffer.from(b.buffer, b.byteOffset, b.length).indexOf(s);
  if (at < 0) throw new Error(`${JSON.stringify(s)} not in stream`);
  return at;
}
