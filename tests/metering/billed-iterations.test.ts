/**
 * Every billed token, on published responses (tests/fixtures/metering/PROVENANCE.md names each source):
 * - Anthropic `usage.iterations`: a compaction iteration is billed on top of the top-level counts (same
 *   model); an advisor iteration is billed at its own model and recorded under that model, in a row of its
 *   own. Checked whole and split at 1 and 7 bytes.
 * - Chat `prompt_tokens_details.cache_write_tokens` is recorded, and when bottle injected include_usage, the
 *   usage an upstream puts on the finish chunk (which still has choices) never reaches the client.
 */
import { describe, expect, test } from "bun:test";
import { billedTokens } from "../../src/metering/tally.ts";
import { usageEventsOf } from "../../src/ledger/usage.ts";
import { drive, fixture, text } from "./helpers.ts";

function splits(b: Uint8Array, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < b.length; i += n) out.push(b.subarray(i, i + n));
  return out;
}

describe("Anthropic usage.iterations", () => {
  test("a compaction iteration is billed on top of the top-level counts, under the response's model", () => {
    const { result } = drive({ path: "/v1/messages", contentType: "application/json" }, [fixture("anthropic", "compaction-iterations.json")]);
    expect(result.model).toBe("claude-opus-4-6");
    expect(result.usage).toMatchObject({ inputTokens: 45000 + 180000, outputTokens: 1234 + 3500, totalTokens: 45000 + 1234 + 180000 + 3500 });
    expect(result.otherModels).toBeUndefined();
    expect(result.estimated).toBe(false);
  });

  test("an advisor iteration is recorded under the advisor's model, in its own row; budgets charge both", () => {
    const sse = fixture("anthropic", "advisor-iterations.sse");
    for (const parts of [[sse], splits(sse, 1), splits(sse, 7)]) {
      const { result } = drive({ path: "/v1/messages", contentType: "text/event-stream" }, parts);
      expect(result.model).toBe("claude-sonnet-5");
      expect(result.usage).toMatchObject({ inputTokens: 1760, outputTokens: 531, cacheReadInputTokens: 412, totalTokens: 1760 + 531 + 412 });
      expect(result.otherModels).toEqual([{ model: "claude-opus-5", usage: { inputTokens: 823, outputTokens: 1612, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, reasoningTokens: 0, totalTokens: 2435 } }]);
      expect(billedTokens(result)).toBe(2703 + 2435);
    }
    const { result } = drive({ path: "/v1/messages", contentType: "text/event-stream" }, [sse]);
    const rows = usageEventsOf(result, { runId: "r", provider: "claude", exchangeId: "x1", endedAt: 1 });
    expect(rows.map((r) => [r.model, r.totalTokens, r.exchangeId])).toEqual([["claude-sonnet-5", 2703, "x1"], ["claude-opus-5", 2435, "x1"]]);
  });
});

describe("OpenAI Responses compaction", () => {
  test("POST /v1/responses/compact is metered from the compaction object's own usage", () => {
    const { result } = drive({ path: "/v1/responses/compact", contentType: "application/json" }, [fixture("openai-responses", "compact.json")]);
    expect(result).toMatchObject({ format: "openai-responses", kind: "usage", estimated: false, requestId: "resp_001" });
    expect(result.usage).toMatchObject({ inputTokens: 139, outputTokens: 438, reasoningTokens: 64, totalTokens: 577 });
  });
});

describe("Chat cache writes and usage on the finish chunk", () => {
  test("cache_write_tokens is recorded; the injected usage on a finish chunk with choices is stripped", () => {
    const up = fixture("openai-chat", "cache-write-finish-usage.upstream.sse");
    for (const parts of [[up], splits(up, 1), splits(up, 7)]) {
      const { result, client } = drive({ path: "/v1/chat/completions", contentType: "text/event-stream", requestBody: '{"model":"anthropic/claude-sonnet-4.5","stream":true,"messages":[]}' }, parts);
      expect(result.usage).toMatchObject({ inputTokens: 5120, outputTokens: 4, cacheCreationInputTokens: 5100, totalTokens: 5124 });
      expect(result.estimated).toBe(false);
      const seen = text(client);
      expect(seen).not.toContain('"usage"');
      expect(seen).toContain('"finish_reason":"stop"');
      expect(seen).toContain('"content":" there"');
      expect(seen).toContain("data: [DONE]");
    }
  });

  test("a client that asked for usage itself still gets it", () => {
    const up = fixture("openai-chat", "cache-write-finish-usage.upstream.sse");
    const { client } = drive({ path: "/v1/chat/completions", contentType: "text/event-stream", requestBody: '{"stream":true,"stream_options":{"include_usage":true}}' }, [up]);
    expect(text(client)).toBe(text(up));
  });
});
