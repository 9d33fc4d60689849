import { describe, expect, test } from "bun:test";
import { selectMeter } from "../../src/metering/index.ts";
import { injectIncludeUsage } from "../../src/metering/openai-chat/include-usage.ts";
import { UsageChunkStripper } from "../../src/metering/openai-chat/strip-usage.ts";
import { byteByByte, bytes, drive, fixture, newMeter, offsetOf, splitAt, text, withEndings, type Exchange } from "./helpers.ts";

const STREAM_NO_USAGE = '{"model":"o4-mini","stream":true,"messages":[{"role":"user","content":"When does the café open?"}]}';
const STREAM_WITH_USAGE = '{"model":"gpt-4.1","stream":true,"stream_options":{"include_usage":true},"messages":[]}';
const INJECTED: Exchange = { path: "/v1/chat/completions", contentType: "text/event-stream", requestBody: STREAM_NO_USAGE };
const ASKED: Exchange = { path: "/v1/chat/completions", contentType: "text/event-stream", requestBody: STREAM_WITH_USAGE };

describe("include_usage request rewrite", () => {
  test("a stream without include_usage gets it, keeping its other stream_options", () => {
    const r = injectIncludeUsage(bytes('{"model":"m","stream":true,"stream_options":{"include_obfuscation":false},"messages":[]}'));
    expect(r.injected).toBe(true);
    expect(JSON.parse(text(r.body))).toEqual({ model: "m", stream: true, stream_options: { include_obfuscation: false, include_usage: true }, messages: [] });
  });

  test("an explicit include_usage:false is overridden and the extra output stripped", () => {
    expect(injectIncludeUsage(bytes('{"stream":true,"stream_options":{"include_usage":false}}')).injected).toBe(true);
  });

  test("non-streams, streams that already ask for usage and non-JSON bodies are left byte for byte", () => {
    for (const b of ['{"stream":false}', '{"messages":[]}', STREAM_WITH_USAGE, "not json", ""]) {
      const body = bytes(b);
      const r = injectIncludeUsage(body);
      expect(r.injected).toBe(false);
      expect(r.body).toBe(body);
    }
  });

  test("the meter's prepareRequest applies the rewrite only to Chat Completions", () => {
    const body = bytes(STREAM_NO_USAGE);
    const chat = selectMeter({ host: "api.openai.com", method: "POST", path: "/v1/chat/completions", requestHeaders: new Headers(), requestBody: body })!;
    expect(JSON.parse(text(chat.prepareRequest(body))).stream_options).toEqual({ include_usage: true });
    const responses = selectMeter({ host: "api.openai.com", method: "POST", path: "/v1/responses", requestHeaders: new Headers(), requestBody: body })!;
    expect(responses.prepareRequest(body)).toBe(body);
  });
});

describe("include_usage stripping: the client sees what an upstream without include_usage sends", () => {
  for (const name of ["reasoning-cached", "short"]) {
    test(`${name}: usage-only chunk and usage:null members removed, everything else byte for byte`, () => {
      const { client } = drive(INJECTED, [fixture("openai-chat", `${name}.upstream.sse`)]);
      expect(text(client)).toBe(text(fixture("openai-chat", `${name}.client.sse`)));
    });
  }

  test("the same holds with CRLF line endings", () => {
    const up = withEndings(fixture("openai-chat", "reasoning-cached.upstream.sse"), "\r\n");
    expect(drive(INJECTED, [up]).client).toEqual(withEndings(fixture("openai-chat", "reasoning-cached.client.sse"), "\r\n"));
  });

  test("split at every byte offset and byte by byte, the client bytes and the usage are unchanged", () => {
    const up = withEndings(fixture("openai-chat", "short.upstream.sse"), "\r\n");
    const want = withEndings(fixture("openai-chat", "short.client.sse"), "\r\n");
    const whole = drive(INJECTED, [up]).result;
    for (let i = 0; i <= up.length; i++) {
      const d = drive(INJECTED, splitAt(up, i));
      expect(d.client).toEqual(want);
      expect(d.result).toEqual(whole);
    }
    expect(drive(INJECTED, byteByByte(up)).client).toEqual(want);
  });

  test("held bytes survive the proxy reusing its read buffer", () => {
    const up = fixture("openai-chat", "short.upstream.sse");
    const meter = newMeter(INJECTED);
    const out: Uint8Array[] = [];
    const scratch = new Uint8Array(37);
    for (let i = 0; i < up.length; i += scratch.length) {
      const n = Math.min(scratch.length, up.length - i);
      scratch.set(up.subarray(i, i + n));
      const view = scratch.subarray(0, n);
      out.push((meter.push(view) ?? view).slice());
    }
    expect(text(new Uint8Array(Buffer.concat(out)))).toBe(text(fixture("openai-chat", "short.client.sse")));
    expect(meter.end().usage.totalTokens).toBe(23);
  });

  test("an internal failure in the stripper hands back every unsent byte and passes the rest through", () => {
    const up = fixture("openai-chat", "short.upstream.sse");
    const usageBlock = Buffer.from(up).lastIndexOf("data: ", offsetOf(up, '"choices":[],"usage":{'));
    const at = usageBlock + 40; // inside the usage-only chunk, which is being held
    const s = new UsageChunkStripper();
    const first = s.push(up.subarray(0, at));
    (s as unknown as { releaseBlock: () => never }).releaseBlock = () => {
      throw new Error("injected fault");
    };
    const rest = [s.push(up.subarray(at, at + 50)), s.push(up.subarray(at + 50)), s.flush()];
    const client = text(new Uint8Array(Buffer.concat([first, ...rest])));
    // Before the fault the stream was cleaned; from the held block on, the upstream bytes arrive untouched.
    expect(client).toBe(text(up.subarray(0, usageBlock)).replaceAll(',"usage":null', "") + text(up.subarray(usageBlock)));
  });

  test("a client that asked for usage itself gets the upstream bytes untouched", () => {
    const up = fixture("openai-chat", "tool-calls.sse");
    const meter = drive(ASKED, [up]);
    expect(meter.client).toEqual(up);
    expect(meter.result.usage).toEqual({ inputTokens: 655, outputTokens: 18, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, reasoningTokens: 0, totalTokens: 673 });
  });

  test("a stream cut mid-block hands the held bytes back on flush, so nothing the upstream sent is lost", () => {
    const up = fixture("openai-chat", "short.upstream.sse");
    const cut = up.subarray(0, offsetOf(up, '"finish_reason":"stop"'));
    expect(text(drive(INJECTED, [cut]).client)).toBe(text(cut).replaceAll(',"usage":null', ""));
  });
});

describe("OpenAI Chat usage", () => {
  test("cached and reasoning tokens are recorded as subsets; the total is prompt + completion", () => {
    const { result } = drive(INJECTED, [fixture("openai-chat", "reasoning-cached.upstream.sse")]);
    expect(result).toEqual({
      format: "openai-chat",
      kind: "usage",
      usage: { inputTokens: 1834, outputTokens: 412, cacheCreationInputTokens: 0, cacheReadInputTokens: 1536, reasoningTokens: 384, totalTokens: 2246 },
      model: "o4-mini-2025-04-16",
      requestId: "chatcmpl-CdQ7rH1mX0lqfS2sZt9yJvK3pLwE4",
      estimated: false,
      errored: false,
    });
  });

  test("a non-streamed completion meters from its usage block", () => {
    const { result } = drive({ path: "/v1/chat/completions", contentType: "application/json", requestBody: '{"model":"gpt-4o"}' }, [fixture("openai-chat", "completion.json")]);
    expect(result.usage).toEqual({ inputTokens: 1200, outputTokens: 9, cacheCreationInputTokens: 0, cacheReadInputTokens: 1024, reasoningTokens: 0, totalTokens: 1209 });
    expect(result.estimated).toBe(false);
  });

  test("a mid-stream error object marks the exchange errored and estimates from the delivered text", () => {
    const { result } = drive(INJECTED, [fixture("openai-chat", "error-midstream.sse")]);
    const delivered = "Partial answer about sixty characters long, then it broke.".length;
    expect(result).toMatchObject({ errored: true, estimated: true });
    expect(result.usage.outputTokens).toBe(Math.ceil(delivered / 4));
    expect(result.usage.inputTokens).toBe(Math.ceil(bytes(STREAM_NO_USAGE).length / 4));
  });

  test("an abort after every byte never throws, output never goes backwards, and content is never metered as zero", () => {
    const up = fixture("openai-chat", "short.upstream.sse");
    // Content counts as delivered once its chunk's data line is complete (a partial line is not an event).
    const contentLineEnd = up.indexOf(0x0a, offsetOf(up, "Hé"));
    const usageAt = offsetOf(up, '"choices":[],"usage":{');
    let previousOutput = 0;
    for (let i = 0; i <= up.length; i++) {
      const { result } = drive(INJECTED, [up.subarray(0, i)], "abort");
      expect(result.usage.outputTokens).toBeGreaterThanOrEqual(previousOutput);
      if (i > contentLineEnd) expect(result.usage.totalTokens).toBeGreaterThan(0);
      if (i < usageAt) expect(result.estimated || result.usage.totalTokens === 0).toBe(true);
      previousOutput = result.usage.outputTokens;
    }
    expect(drive(INJECTED, [up], "abort").result).toEqual(drive(INJECTED, [up]).result);
  });
});
