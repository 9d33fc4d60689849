/**
 * Request bodies as the providers accept them: plain, or compressed with `Content-Encoding` (Codex sends its
 * Responses requests zstd-compressed when request compression is on, and the API reads them). The simulator
 * decodes them the same way, so a test can send what a real client may send.
 */
import { brotliDecompressSync, gunzipSync, inflateSync, zstdDecompressSync } from "node:zlib";

export function decodeBody(raw: Uint8Array, encoding: string | null): string {
  let b: Uint8Array = raw;
  const codings = (encoding ?? "").split(",").map((s) => s.trim().toLowerCase()).filter((s) => s && s !== "identity");
  for (const c of codings.reverse()) {
    if (c === "gzip" || c === "x-gzip") b = gunzipSync(b);
    else if (c === "deflate") b = inflateSync(b);
    else if (c === "br") b = brotliDecompressSync(b);
    else if (c === "zstd") b = zstdDecompressSync(b);
    else throw new Error(`unsupported content-encoding ${c}`);
  }
  return new TextDecoder().decode(b);
}
