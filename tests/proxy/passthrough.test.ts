/**
 * The passthrough reads each response chunk where it passes: the metering hook is handed the very buffer the
 * client receives (no copy per chunk), a replacement from the hook is what the client gets, and a chunk the
 * hook swallows is skipped without stalling the stream.
 */
import { describe, expect, test } from "bun:test";
import type { ProxyHooks, ProxyRequestContext } from "../../src/proxy/hooks.ts";
import { passthrough } from "../../src/proxy/passthrough.ts";
import { DEFAULT_LIMITS, type RunContext } from "../../src/proxy/run-context.ts";

function setup(hooks: ProxyHooks): { run: RunContext; ctx: ProxyRequestContext } {
  const run: RunContext = { runId: "r", routes: [], log: "full", hooks, auth: new Map(), limits: DEFAULT_LIMITS, upstreamCa: [] };
  const ctx: ProxyRequestContext = { id: "x", runId: "r", method: "POST", host: "h", port: 443, path: "/", upstreamUrl: "https://h/", requestHeaders: new Headers(), startedAt: Date.now(), state: {} };
  return { run, ctx };
}

function source(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (i < chunks.length) c.enqueue(chunks[i++]!);
      else c.close();
    },
  });
}

async function drain(s: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of s) out.push(c);
  return out;
}

const bytes = (s: string) => new TextEncoder().encode(s);

describe("passthrough", () => {
  test("the hook sees the very chunk the client receives: no copy per chunk", async () => {
    const sent = [bytes("data: one\n\n"), bytes("data: two\n\n"), bytes("data: three\n\n")];
    const seen: Uint8Array[] = [];
    const { run, ctx } = setup({ onResponseChunk: (_c, chunk) => void seen.push(chunk) });
    const got = await drain(passthrough(source(sent), { run, ctx, status: 200, bytesUp: 0, upstreamAbort: new AbortController() }));
    expect(seen.length).toBe(3);
    for (let i = 0; i < 3; i++) {
      expect(seen[i]).toBe(sent[i]!);
      expect(got[i]).toBe(sent[i]!);
    }
  });

  test("a replacement is forwarded, an empty one is skipped, and the stream still ends once", async () => {
    const ends: string[] = [];
    const { run, ctx } = setup({
      onResponseChunk: (_c, chunk) => (chunk[6] === 0x78 ? new Uint8Array(0) : chunk[6] === 0x72 ? bytes("data: R\n\n") : undefined),
      onResponseEnd: (c) => void ends.push(c.id),
    });
    const got = await drain(passthrough(source([bytes("data: a\n\n"), bytes("data: x\n\n"), bytes("data: r\n\n")]), { run, ctx, status: 200, bytesUp: 0, upstreamAbort: new AbortController() }));
    expect(got.map((c) => new TextDecoder().decode(c))).toEqual(["data: a\n\n", "data: R\n\n"]);
    expect(ends).toEqual(["x"]);
  });
});
