/**
 * The refusal must stop the official SDKs on the first answer. A real loopback listener serves the refusal
 * and counts requests; the SDKs run with their default retry settings. A control case serves a plain 429 to
 * prove the same clients do retry when the refusal is not shaped right, so the count is meaningful.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterEach, describe, expect, test } from "bun:test";
import { budgetRefusalMessage, refusalResponse, type ErrorStyle } from "../../src/enforce/refusal.ts";

let server: ReturnType<typeof Bun.serve> | undefined;
afterEach(() => {
  server?.stop(true);
  server = undefined;
});

const message = budgetRefusalMessage({
  scope: "agent reviewer budget from /tmp/agents/reviewer.md",
  provider: "claude",
  used: 10_234,
  limit: 10_000,
  window: "per day (UTC)",
});

function serve(respond: () => Response): { hits: () => number; base: string } {
  let hits = 0;
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch() {
      hits++;
      return respond();
    },
  });
  return { hits: () => hits, base: `http://127.0.0.1:${server.port}` };
}

const refuse = (style: ErrorStyle) => () => refusalResponse(style, message);

async function anthropicCall(base: string): Promise<unknown> {
  const client = new Anthropic({ apiKey: "sk-ant-placeholder", baseURL: base });
  return client.messages
    .create({ model: "claude-test-model", max_tokens: 64, messages: [{ role: "user", content: "hi" }] })
    .catch((e: unknown) => e);
}

describe("refusal through @anthropic-ai/sdk", () => {
  test("a budget refusal reaches the proxy exactly once and surfaces a billing_error naming scope and numbers", async () => {
    const s = serve(refuse("anthropic"));
    const err = (await anthropicCall(s.base)) as InstanceType<typeof Anthropic.APIError>;
    expect(s.hits()).toBe(1);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(err.status).toBe(402);
    expect((err.error as { error: { type: string } }).error.type).toBe("billing_error");
    expect(err.message).toContain("agent reviewer budget from /tmp/agents/reviewer.md");
    expect(err.message).toContain("10,234 of 10,000 tokens used");
  });

  test("streaming requests are refused once too", async () => {
    const s = serve(refuse("anthropic"));
    const client = new Anthropic({ apiKey: "sk-ant-placeholder", baseURL: s.base });
    const err = await client.messages
      .create({ model: "m", max_tokens: 8, stream: true, messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(s.hits()).toBe(1);
  });

  test("the 402 is not retried even by a client that ignores x-should-retry", async () => {
    const s = serve(() => {
      const r = refusalResponse("anthropic", message);
      const headers = new Headers(r.headers);
      headers.delete("x-should-retry");
      return new Response(r.body, { status: r.status, headers });
    });
    await anthropicCall(s.base);
    expect(s.hits()).toBe(1);
  });

  test("control: a plain 429 is retried by the same client (so one hit above is the refusal's doing)", async () => {
    const s = serve(
      () =>
        new Response(JSON.stringify({ type: "error", error: { type: "rate_limit_error", message: "slow down" } }), {
          status: 429,
          headers: { "content-type": "application/json", "retry-after-ms": "1" },
        }),
    );
    await anthropicCall(s.base);
    expect(s.hits()).toBe(3);
  });
});

describe("refusal through openai", () => {
  const client = (base: string) => new OpenAI({ apiKey: "sk-placeholder", baseURL: `${base}/v1` });

  test("chat completions: insufficient_quota reaches the proxy exactly once", async () => {
    const s = serve(refuse("openai"));
    const err = (await client(s.base)
      .chat.completions.create({ model: "gpt-5", messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(s.hits()).toBe(1);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.status).toBe(429);
    expect(err.code).toBe("insufficient_quota");
    expect(err.message).toContain("10,234 of 10,000 tokens used");
  });

  test("responses API: refused once", async () => {
    const s = serve(refuse("openai"));
    const err = await client(s.base)
      .responses.create({ model: "gpt-5", input: "hi" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(s.hits()).toBe(1);
  });

  test("control: a 429 without x-should-retry is retried", async () => {
    const s = serve(
      () =>
        new Response(JSON.stringify({ error: { message: "slow", type: "requests", code: "rate_limit_exceeded" } }), {
          status: 429,
          headers: { "content-type": "application/json", "retry-after-ms": "1" },
        }),
    );
    await client(s.base)
      .chat.completions.create({ model: "gpt-5", messages: [{ role: "user", content: "hi" }] })
      .catch(() => undefined);
    expect(s.hits()).toBe(3);
  });
});
