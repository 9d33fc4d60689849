/**
 * `preflight: clamp`, the pure half: how much output a request is granted from the room its budget has
 * left, and how its body is rewritten with that cap in each API's own field (and nothing else changed).
 */
import { describe, expect, test } from "bun:test";
import { clampAsk, grantOutput, MIN_CLAMP_OUTPUT, withOutputCap } from "../../src/enforce/clamp.ts";
import { DEFAULT_OUTPUT_RESERVE } from "../../src/enforce/estimate.ts";
import { requestShape } from "../../src/enforce/request-shape.ts";

const shape = (path: string, json: object) => requestShape("POST", path, new TextEncoder().encode(JSON.stringify(json)))!;
const body = (b: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(b!)) as Record<string, unknown>;

describe("grantOutput", () => {
  test("the whole cap when it fits, what is left after the input when not, nothing under the minimum", () => {
    const ask = { input: 100, wanted: 64_000, adjustable: true };
    expect(grantOutput(100_000, ask)).toBe(64_000);
    expect(grantOutput(2_000, ask)).toBe(1_900);
    expect(grantOutput(100 + MIN_CLAMP_OUTPUT, ask)).toBe(MIN_CLAMP_OUTPUT);
    expect(grantOutput(100 + MIN_CLAMP_OUTPUT - 1, ask)).toBeUndefined();
    expect(grantOutput(50, ask)).toBeUndefined();
    // A request asking less than the minimum needs only what it asks.
    expect(grantOutput(160, { input: 100, wanted: 50, adjustable: true })).toBe(50);
    expect(grantOutput(149, { input: 100, wanted: 50, adjustable: true })).toBeUndefined();
    // A cap that cannot be written keeps the whole reservation (estimate's rule).
    expect(grantOutput(20_000, { input: 100, wanted: DEFAULT_OUTPUT_RESERVE, adjustable: false })).toBe(DEFAULT_OUTPUT_RESERVE);
    expect(grantOutput(10_000, { input: 100, wanted: DEFAULT_OUTPUT_RESERVE, adjustable: false })).toBeUndefined();
  });
});

describe("withOutputCap", () => {
  test("Anthropic: max_tokens, and a thinking budget kept under it (or dropped below Anthropic's minimum)", () => {
    const s = shape("/v1/messages", { model: "m", max_tokens: 64_000, thinking: { type: "enabled", budget_tokens: 31_999 }, messages: [{ role: "user", content: "hi" }] });
    expect(body(withOutputCap(s, "/v1/messages", 20_000))).toEqual({ model: "m", max_tokens: 20_000, thinking: { type: "enabled", budget_tokens: 19_999 }, messages: [{ role: "user", content: "hi" }] });
    expect(body(withOutputCap(s, "/v1/messages", 900)).thinking).toBeUndefined();
    expect(body(withOutputCap(s, "/v1/messages", 40_000)).thinking).toEqual({ type: "enabled", budget_tokens: 31_999 });
    expect(withOutputCap(s, "/v1/messages", 64_000)).toBeUndefined(); // nothing to change
  });

  test("OpenAI: the field the request used; the API's own field when it used none", () => {
    const chat = (extra: object) => shape("/v1/chat/completions", { model: "m", messages: [], ...extra });
    expect(body(withOutputCap(chat({ max_tokens: 4000 }), "/v1/chat/completions", 700))).toMatchObject({ max_tokens: 700 });
    expect(body(withOutputCap(chat({ max_completion_tokens: 4000 }), "/v1/chat/completions", 700))).toMatchObject({ max_completion_tokens: 700 });
    expect(body(withOutputCap(chat({}), "/v1/chat/completions", 700))).toMatchObject({ max_completion_tokens: 700 });
    expect(body(withOutputCap(shape("/v1/completions", { model: "m", prompt: "x" }), "/v1/completions", 700))).toMatchObject({ max_tokens: 700 });
    expect(body(withOutputCap(shape("/v1/responses", { model: "m", input: "x" }), "/v1/responses", 700))).toMatchObject({ max_output_tokens: 700 });
    // Embeddings produce no output: nothing to cap.
    expect(withOutputCap(shape("/v1/embeddings", { model: "m", input: "x" }), "/v1/embeddings", 700)).toBeUndefined();
  });

  test("clampAsk: the request's cap, else the default; the ChatGPT backend gets no cap written in", () => {
    expect(clampAsk(shape("/v1/messages", { max_tokens: 64_000, messages: [] }), "/v1/messages", 10)).toEqual({ input: 10, wanted: 64_000, adjustable: true });
    expect(clampAsk(shape("/v1/responses", { input: "x" }), "/v1/responses", 10)).toEqual({ input: 10, wanted: DEFAULT_OUTPUT_RESERVE, adjustable: true });
    expect(clampAsk(shape("/backend-api/codex/responses", { input: "x" }), "/backend-api/codex/responses", 10)).toEqual({ input: 10, wanted: DEFAULT_OUTPUT_RESERVE, adjustable: false });
    expect(clampAsk(shape("/backend-api/codex/responses", { input: "x", max_output_tokens: 900 }), "/backend-api/codex/responses", 10).adjustable).toBe(true);
  });
});
