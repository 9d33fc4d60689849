import { describe, expect, test } from "bun:test";
import { gunzipSync } from "node:zlib";
import { byteByByte, drive, fixture, offsetOf, splitAt, withEndings, type Exchange } from "./helpers.ts";

const SSE: Exchange = { path: "/v1/messages", contentType: "text/event-stream; charset=utf-8", requestBody: '{"model":"claude-sonnet-4-5","stream":true,"max_tokens":1024,"messages":[{"role":"user","content":"hi"}]}' };
const JSON_EX: Exchange = { path: "/v1/messages", contentType: "application/json", requestBody: '{"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[]}' };

describe("Anthropic Messages stream", () => {
  test("cache creation and cache read are recorded separately and all four classes are in the total", () => {
    const { result } = drive(SSE, [fixture("anthropic", "text-cache.sse")]);
    expect(result).toEqual({
      format: "anthropic-messages",
      kind: "usage",
      usage: { inputTokens: 12, outputTokens: 17, cacheCreationInputTokens: 2048, cacheReadInputTokens: 15360, reasoningTokens: 0, totalTokens: 12 + 17 + 2048 + 15360 },
      model: "claude-sonnet-4-5-20250929",
      requestId: "msg_01XFDUDYJgAACzvnptvVoYEL",
      estimated: false,
      errored: false,
    });
  });

  test("several message_deltas overwrite with their non-null cumulative fields and are never summed", () => {
    const { result } = drive(SSE, [fixture("anthropic", "thinking-tool-use.sse")]);
    // deltas carry output 41 then 89 (cumulative); a sum would give 130. input null in the first keeps 472.
    expect(result.usage).toEqual({ inputTokens: 472, outputTokens: 89, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, reasoningTokens: 22, totalTokens: 561 });
    expect(result.estimated).toBe(false);
  });

  test("a mid-stream error event records the partial usage plus an estimate of what was delivered", () => {
    const { result } = drive(SSE, [fixture("anthropic", "error-midstream.sse")]);
    const delivered = "Here is the first part of a long answer that was going well until ".length;
    expect(result.errored).toBe(true);
    expect(result.estimated).toBe(true);
    expect(result.usage.inputTokens).toBe(310);
    expect(result.usage.cacheReadInputTokens).toBe(1200);
    expect(result.usage.outputTokens).toBe(Math.ceil(delivered / 4));
    expect(result.usage.totalTokens).toBe(310 + 1200 + Math.ceil(delivered / 4));
  });

  test("CRLF and CR line endings give the same usage as LF", () => {
    const lf = drive(SSE, [fixture("anthropic", "thinking-tool-use.sse")]).result;
    expect(drive(SSE, [withEndings(fixture("anthropic", "thinking-tool-use.sse"), "\r\n")]).result).toEqual(lf);
    expect(drive(SSE, [withEndings(fixture("anthropic", "thinking-tool-use.sse"), "\r")]).result).toEqual(lf);
  });

  test("the meter never changes the bytes the client receives", () => {
    const src = fixture("anthropic", "text-cache.sse");
    expect(drive(SSE, byteByByte(src)).client).toEqual(src);
  });

  test("a gzip-encoded recording, once decoded by the proxy in arbitrary pieces, meters identically", () => {
    const decoded = new Uint8Array(gunzipSync(fixture("anthropic", "text-cache.sse.gz")));
    const pieces = [decoded.subarray(0, 333), decoded.subarray(333, 334), decoded.subarray(334)];
    expect(drive(SSE, pieces).result).toEqual(drive(SSE, [fixture("anthropic", "text-cache.sse")]).result);
  });
});

describe("Anthropic Messages stream cut or split at every byte", () => {
  const short = withEndings(fixture("anthropic", "short.sse"), "\r\n");
  const whole = drive(SSE, [short]).result;

  test("the short recording meters exactly", () => {
    expect(whole.usage).toEqual({ inputTokens: 25, outputTokens: 14, cacheCreationInputTokens: 0, cacheReadInputTokens: 8, reasoningTokens: 0, totalTokens: 47 });
    expect(whole.estimated).toBe(false);
  });

  test("two chunks split at any offset, or one byte per chunk, give the same result as one chunk", () => {
    for (let i = 0; i <= short.length; i++) expect(drive(SSE, splitAt(short, i)).result).toEqual(whole);
    expect(drive(SSE, byteByByte(short)).result).toEqual(whole);
  });

  test("an abort after every byte never throws, never goes backwards, and is never zero once content arrived", () => {
    let previous = 0;
    let previousOutput = 0;
    const contentAt = offsetOf(short, "Héllo");
    for (let i = 0; i <= short.length; i++) {
      const { result } = drive(SSE, [short.subarray(0, i)], "abort");
      expect(result.usage.totalTokens).toBeGreaterThanOrEqual(previous);
      expect(result.usage.outputTokens).toBeGreaterThanOrEqual(previousOutput);
      if (i > contentAt) expect(result.usage.totalTokens).toBeGreaterThan(0);
      if (result.estimated) expect(result.usage.totalTokens).toBeLessThanOrEqual(whole.usage.totalTokens + 20);
      previous = result.usage.totalTokens;
      previousOutput = result.usage.outputTokens;
    }
    expect(drive(SSE, [short], "abort").result).toEqual(whole); // message_stop seen: nothing left to estimate
  });

  test("a stream that ends early without message_stop is flagged estimated", () => {
    const cut = short.subarray(0, offsetOf(short, "event: message_delta"));
    const { result } = drive(SSE, [cut]);
    expect(result.estimated).toBe(true);
    expect(result.usage.outputTokens).toBeGreaterThan(1);
  });
});

describe("Anthropic Messages JSON and count_tokens", () => {
  test("a non-streamed message meters from its usage block", () => {
    const { result } = drive(JSON_EX, [fixture("anthropic", "message.json")]);
    expect(result.usage).toEqual({ inputTokens: 2095, outputTokens: 503, cacheCreationInputTokens: 1024, cacheReadInputTokens: 4096, reasoningTokens: 0, totalTokens: 7718 });
    expect(result.requestId).toBe("msg_013Zva2CMHLNnXjNJJKqJ2EF");
    expect(result.estimated).toBe(false);
  });

  test("count_tokens is recorded as a call, with no usage", () => {
    const { meter, result } = drive({ path: "/v1/messages/count_tokens", contentType: "application/json", responseHeaders: { "request-id": "req_count1" } }, [fixture("anthropic", "count-tokens.json")]);
    expect(meter.kind).toBe("count");
    expect(result.kind).toBe("count");
    expect(result.usage.totalTokens).toBe(0);
    expect(result.requestId).toBe("req_count1");
  });

  test("an error response is zero tokens, errored, not estimated, with the request-id header", () => {
    const ex = { ...SSE, status: 429, contentType: "application/json", responseHeaders: { "request-id": "req_011CSHoEeqs5C35K2UUqR7Fy" } };
    const { result } = drive(ex, [fixture("anthropic", "error-429.json")]);
    expect(result).toMatchObject({ kind: "usage", estimated: false, errored: true, requestId: "req_011CSHoEeqs5C35K2UUqR7Fy" });
    expect(result.usage.totalTokens).toBe(0);
  });

  test("a JSON body cut mid-way is estimated from what arrived, never zero", () => {
    const body = fixture("anthropic", "message.json");
    const { result } = drive(JSON_EX, [body.subarray(0, 200)], "abort");
    expect(result.estimated).toBe(true);
    expect(result.usage.totalTokens).toBeGreaterThan(0);
  });
});
