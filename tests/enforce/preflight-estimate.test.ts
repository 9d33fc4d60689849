/**
 * The pre-flight reservation: a real tokenizer for the input, the request's own output cap, and the
 * provider's counting endpoint (a loopback fake speaking the real paths) with fallback when it fails.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { encode } from "gpt-tokenizer/encoding/o200k_base";
import { countCallFor, countViaProvider } from "../../src/enforce/count-tokens.ts";
import { ANTHROPIC_FACTOR, DEFAULT_OUTPUT_RESERVE, estimateInput, IMAGE_TOKENS, reservationOf } from "../../src/enforce/estimate.ts";
import { generationFormat, requestShape } from "../../src/enforce/request-shape.ts";

const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
const text = "Refactor the payment module so that retries are idempotent, then write tests for it.";

describe("request shape", () => {
  test("paths map to formats; count endpoints are not generation", () => {
    expect(generationFormat("POST", "/v1/messages")).toBe("anthropic-messages");
    expect(generationFormat("POST", "/v1/messages?beta=true")).toBe("anthropic-messages");
    expect(generationFormat("POST", "/v1/messages/count_tokens")).toBeUndefined();
    expect(generationFormat("POST", "/v1/chat/completions")).toBe("openai-chat");
    expect(generationFormat("POST", "/backend-api/codex/responses")).toBe("openai-responses");
    expect(generationFormat("POST", "/v1/responses/input_tokens")).toBeUndefined();
    expect(requestShape("POST", "/v1/messages", new TextEncoder().encode("not json"))).toBeUndefined();
  });

  test("output caps are read from each API's own field", () => {
    expect(requestShape("POST", "/v1/messages", enc({ max_tokens: 512 }))!.maxOutput).toBe(512);
    expect(requestShape("POST", "/v1/chat/completions", enc({ max_completion_tokens: 64, max_tokens: 9 }))!.maxOutput).toBe(64);
    expect(requestShape("POST", "/v1/responses", enc({ max_output_tokens: 77 }))!.maxOutput).toBe(77);
  });
});

describe("local estimate", () => {
  test("OpenAI input is at least the o200k count of its text; reservation adds the cap", async () => {
    const shape = requestShape("POST", "/v1/chat/completions", enc({ model: "gpt-5", max_tokens: 100, messages: [{ role: "user", content: text }] }))!;
    const input = await estimateInput(shape);
    expect(input).toBeGreaterThanOrEqual(encode(text).length);
    expect(input).toBeLessThan(encode(text).length + 20);
    expect(reservationOf(input, shape, "estimate")).toEqual({ input, output: 100, total: input + 100, method: "estimate" });
  });

  test("Anthropic input is scaled up; images count as a flat cost, not their base64", async () => {
    const plain = requestShape("POST", "/v1/messages", enc({ max_tokens: 10, system: text, messages: [{ role: "user", content: text }] }))!;
    const n = await estimateInput(plain);
    expect(n).toBeGreaterThanOrEqual(Math.ceil(2 * encode(text).length * ANTHROPIC_FACTOR));
    const img = requestShape("POST", "/v1/messages", enc({ max_tokens: 10, messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", data: "A".repeat(200_000) } }] }] }))!;
    const m = await estimateInput(img);
    expect(m).toBeGreaterThanOrEqual(IMAGE_TOKENS);
    expect(m).toBeLessThan(IMAGE_TOKENS * 2);
  });

  test("no output cap: the documented default is reserved", () => {
    const shape = requestShape("POST", "/v1/responses", enc({ input: "hi" }))!;
    expect(reservationOf(3, shape, "estimate").output).toBe(DEFAULT_OUTPUT_RESERVE);
  });
});

describe("provider counting endpoints", () => {
  let server: ReturnType<typeof Bun.serve> | undefined;
  afterEach(() => server?.stop(true));
  const seen: Array<{ path: string; key: string | null; body: Record<string, unknown> }> = [];

  function fake(status = 200): string {
    seen.length = 0;
    server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const body = (await req.json()) as Record<string, unknown>;
        seen.push({ path: new URL(req.url).pathname, key: req.headers.get("x-api-key") ?? req.headers.get("authorization"), body });
        if (status !== 200) return new Response("{}", { status });
        return Response.json(new URL(req.url).pathname.endsWith("input_tokens") ? { object: "response.input_tokens", input_tokens: 4242 } : { input_tokens: 1234 });
      },
    });
    return `http://127.0.0.1:${server.port}`;
  }

  test("Anthropic: /v1/messages/count_tokens gets the input fields only, with the credential", async () => {
    const base = fake();
    const shape = requestShape("POST", "/v1/messages", enc({ model: "m", max_tokens: 5, stream: true, system: "s", messages: [] }))!;
    const call = countCallFor(shape, `${base}/v1/messages?beta=true`)!;
    const n = await countViaProvider(call, new Headers({ "x-api-key": "sk-real", "content-length": "999" }));
    expect(n).toBe(1234);
    expect(seen[0]!.path).toBe("/v1/messages/count_tokens");
    expect(seen[0]!.key).toBe("sk-real");
    expect(seen[0]!.body).toEqual({ model: "m", messages: [], system: "s" });
  });

  test("OpenAI Responses: /v1/responses/input_tokens", async () => {
    const base = fake();
    const shape = requestShape("POST", "/v1/responses", enc({ model: "gpt-5", input: "hi", stream: true, max_output_tokens: 3 }))!;
    expect(await countViaProvider(countCallFor(shape, `${base}/v1/responses`)!, new Headers({ authorization: "Bearer k" }))).toBe(4242);
    expect(seen[0]!.body).toEqual({ model: "gpt-5", input: "hi" });
  });

  test("Chat Completions has no counting endpoint; failures return undefined for the fallback", async () => {
    const base = fake(500);
    expect(countCallFor(requestShape("POST", "/v1/chat/completions", enc({ messages: [] }))!, `${base}/v1/chat/completions`)).toBeUndefined();
    const shape = requestShape("POST", "/v1/messages", enc({ model: "m", messages: [] }))!;
    expect(await countViaProvider(countCallFor(shape, `${base}/v1/messages`)!, new Headers())).toBeUndefined();
    expect(await countViaProvider(countCallFor(shape, "http://127.0.0.1:1/v1/messages")!, new Headers())).toBeUndefined();
  });
});
