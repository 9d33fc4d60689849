/**
 * Decoding a compressed request body before the hooks see it: every coding the APIs accept decodes to the
 * original bytes (stacked codings in reverse order), and a body bottle cannot read (an unknown coding,
 * corrupt data, a decompression bomb past the body limit) is refused with a reason that names the cause.
 */
import { expect, test } from "bun:test";
import { brotliCompressSync, deflateSync, gzipSync, zstdCompressSync } from "node:zlib";
import { contentCodings, decodeRequestBody } from "../../src/proxy/request-encoding.ts";

const text = JSON.stringify({ model: "gpt-5", input: "hi", background: true });
const raw = new TextEncoder().encode(text);

test("gzip, deflate, br and zstd (and a stack of them) decode to the body the upstream reads", () => {
  const cases: [string, Uint8Array][] = [
    ["gzip", gzipSync(raw)],
    ["x-gzip", gzipSync(raw)],
    ["deflate", deflateSync(raw)],
    ["br", brotliCompressSync(raw)],
    ["ZSTD", zstdCompressSync(raw)],
    ["gzip, zstd", zstdCompressSync(gzipSync(raw))],
    ["identity", raw],
  ];
  for (const [coding, body] of cases) {
    const r = decodeRequestBody(body, coding, 1 << 20);
    expect(r.ok ? new TextDecoder().decode(r.body) : r.reason).toBe(text);
  }
  expect(contentCodings(" Identity , gzip")).toEqual(["gzip"]);
});

test("an unknown coding, corrupt data and a bomb past the limit are refused with their cause", () => {
  expect(decodeRequestBody(raw, "compress", 1 << 20)).toMatchObject({ ok: false, status: 415, reason: expect.stringContaining('encoded as "compress"') });
  expect(decodeRequestBody(raw, "gzip", 1 << 20)).toMatchObject({ ok: false, status: 415, reason: expect.stringContaining("not valid gzip") });
  const bomb = zstdCompressSync(new Uint8Array(8 << 20));
  expect(bomb.byteLength).toBeLessThan(4096);
  expect(decodeRequestBody(bomb, "zstd", 1 << 20)).toMatchObject({ ok: false, status: 413, reason: expect.stringContaining("exceeds 1048576 bytes once decoded") });
});
