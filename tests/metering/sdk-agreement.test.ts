/**
 * The official SDKs read the same recorded streams through a small loopback relay driven by a Meter exactly as
 * the proxy hooks drive it. The SDK's own usage accounting must agree with the meter's, and an OpenAI Chat
 * client that never asked for usage must see the same chunks as it would straight from the upstream.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { selectMeter } from "../../src/metering/index.ts";
import type { MeterResult } from "../../src/metering/types.ts";
import { fixture, text } from "./helpers.ts";

/** Serves a recorded body in small pieces, as a real upstream's TCP reads would arrive. */
function dribble(body: Uint8Array, contentType: string): Response {
  let at = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (at >= body.length) return c.close();
      c.enqueue(body.slice(at, at + 7));
      at += 7;
    },
  });
  return new Response(stream, { headers: { "content-type": contentType, "request-id": "req_fake_upstream" } });
}

const upstreamBodies: Record<string, unknown>[] = [];
const upstream = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    const body = (await req.json()) as Record<string, unknown>;
    upstreamBodies.push(body);
    const path = new URL(req.url).pathname;
    const sse = "text/event-stream; charset=utf-8";
    if (path === "/v1/messages") return dribble(fixture("anthropic", req.headers.get("x-fixture") ?? "text-cache.sse"), sse);
    if (path === "/v1/chat/completions") {
      const withUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
      return dribble(fixture("openai-chat", withUsage ? "short.upstream.sse" : "short.client.sse"), sse);
    }
    if (path === "/v1/responses") return dribble(fixture("openai-responses", "reasoning-cached.sse"), sse);
    return new Response("not found", { status: 404 });
  },
});

const metered: MeterResult[] = [];
const relay = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    const url = new URL(req.url);
    let body = new Uint8Array(await req.arrayBuffer());
    const meter = selectMeter({ host: url.hostname, method: req.method, path: url.pathname, requestHeaders: req.headers, requestBody: body });
    if (meter) body = new Uint8Array(meter.prepareRequest(body));
    const headers = new Headers(req.headers);
    headers.delete("content-length");
    const up = await fetch(`http://127.0.0.1:${upstream.port}${url.pathname}`, { method: req.method, headers, body });
    meter?.onResponseStart(up.status, up.headers);
    const reader = up.body!.getReader();
    const out = new ReadableStream<Uint8Array>({
      async pull(c) {
        const r = await reader.read();
        if (r.done) {
          const tail = meter?.flush();
          if (tail) c.enqueue(tail);
          if (meter) metered.push(meter.end());
          return c.close();
        }
        const replaced = meter?.push(r.value);
        if (!replaced || replaced.length > 0) c.enqueue(replaced ?? r.value);
      },
    });
    return new Response(out, { status: up.status, headers: { "content-type": up.headers.get("content-type") ?? "" } });
  },
});

afterAll(() => {
  relay.stop(true);
  upstream.stop(true);
});

const relayUrl = `http://127.0.0.1:${relay.port}`;

describe("official SDKs through a metered relay", () => {
  for (const name of ["text-cache.sse", "thinking-tool-use.sse"]) {
    test(`Anthropic MessageStream's final usage equals the meter's (${name})`, async () => {
      const client = new Anthropic({ apiKey: "test-key", baseURL: relayUrl, defaultHeaders: { "x-fixture": name }, maxRetries: 0 });
      const stream = client.messages.stream({ model: "claude-opus-4-1", max_tokens: 256, messages: [{ role: "user", content: "hi" }] });
      const final = await stream.finalMessage();
      const m = metered.at(-1)!;
      expect(m.usage).toMatchObject({
        inputTokens: final.usage.input_tokens,
        outputTokens: final.usage.output_tokens,
        cacheCreationInputTokens: final.usage.cache_creation_input_tokens ?? 0,
        cacheReadInputTokens: final.usage.cache_read_input_tokens ?? 0,
      });
      expect(m.requestId).toBe(final.id);
      expect(m.estimated).toBe(false);
    });
  }

  test("OpenAI Chat: a client that never asked for usage gets the same chunks as from the upstream directly, and is metered", async () => {
    const params = { model: "gpt-4o-mini", stream: true as const, messages: [{ role: "user" as const, content: "hi" }] };
    const collect = async (baseURL: string) => {
      const chunks: unknown[] = [];
      for await (const c of await new OpenAI({ apiKey: "test-key", baseURL, maxRetries: 0 }).chat.completions.create(params)) chunks.push(c);
      return chunks;
    };
    const direct = await collect(`http://127.0.0.1:${upstream.port}/v1`);
    expect(upstreamBodies.at(-1)!.stream_options).toBeUndefined();
    const relayed = await collect(`${relayUrl}/v1`);
    expect(upstreamBodies.at(-1)!.stream_options).toEqual({ include_usage: true });
    expect(relayed).toEqual(direct);
    expect(JSON.stringify(relayed)).not.toContain("usage");
    expect(metered.at(-1)!).toMatchObject({ format: "openai-chat", estimated: false, usage: { inputTokens: 19, outputTokens: 4, totalTokens: 23 } });
  });

  test("OpenAI Responses stream's final usage equals the meter's", async () => {
    const client = new OpenAI({ apiKey: "test-key", baseURL: `${relayUrl}/v1`, maxRetries: 0 });
    const stream = client.responses.stream({ model: "gpt-5-codex", input: "Did CI pass?" });
    const final = await stream.finalResponse();
    const m = metered.at(-1)!;
    expect(m.usage).toMatchObject({
      inputTokens: final.usage!.input_tokens,
      outputTokens: final.usage!.output_tokens,
      cacheReadInputTokens: final.usage!.input_tokens_details.cached_tokens,
      reasoningTokens: final.usage!.output_tokens_details.reasoning_tokens,
      totalTokens: final.usage!.total_tokens,
    });
    expect(m.requestId).toBe(final.id);
    expect(text(fixture("openai-responses", "reasoning-cached.sse"))).toContain(final.id);
  });
});
