/**
 * Request bodies sent with `Content-Encoding` (gzip, deflate, br, zstd; Codex compresses its requests with
 * zstd when request compression is on, and the APIs read them). The hooks must see the body the upstream
 * will read: a compressed body hid a Chat stream from `include_usage` (so it was only estimated) and a
 * Responses request's options from every check. So on a metered exchange the proxy decodes the body, sends
 * it up plain without the header, and refuses one it cannot decode (an unknown coding, corrupt data, or more
 * than the body limit once decoded) before anything is sent. Pure apart from zlib.
 */
import { brotliDecompressSync, gunzipSync, inflateSync, zstdDecompressSync } from "node:zlib";

export type DecodedBody = { ok: true; body: Uint8Array } | { ok: false; status: 413 | 415; reason: string };

const DECODERS: Record<string, (b: Uint8Array, o: { maxOutputLength: number }) => Uint8Array> = {
  gzip: gunzipSync,
  "x-gzip": gunzipSync,
  deflate: inflateSync,
  br: brotliDecompressSync,
  zstd: zstdDecompressSync,
};

/** The codings a Content-Encoding value lists, in the order they were applied (identity dropped). */
export function contentCodings(value: string | null): string[] {
  return (value ?? "").split(",").map((s) => s.trim().toLowerCase()).filter((s) => s !== "" && s !== "identity");
}

export function decodeRequestBody(body: Uint8Array, encoding: string | null, maxBytes: number): DecodedBody {
  let b = body;
  for (const c of contentCodings(encoding).reverse()) {
    const decode = DECODERS[c];
    if (!decode) {
      return { ok: false, status: 415, reason: `the request body is encoded as ${JSON.stringify(c)}, which bottle cannot read to meter it; send it uncompressed (or as gzip, deflate, br or zstd)` };
    }
    try {
      b = decode(b, { maxOutputLength: maxBytes });
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "ERR_BUFFER_TOO_LARGE") return { ok: false, status: 413, reason: `the request body exceeds ${maxBytes} bytes once decoded (${c})` };
      return { ok: false, status: 415, reason: `the request body is not valid ${c} (${(e as Error).message}); bottle cannot read it to meter it` };
    }
  }
  return { ok: true, body: b };
}
