import { describe, expect, test } from "bun:test";
import { selectMeter } from "../../src/metering/index.ts";
import type { MeterResult } from "../../src/metering/types.ts";
import { byteByByte, drive, fixture, offsetOf, splitAt, text, withEndings, type Exchange } from "./helpers.ts";

const REQUEST = '{"model":"gpt-5-codex","stream":true,"input":[{"role":"user","content":"Did CI pass?"}]}';
const SSE: Exchange = { path: "/v1/responses", contentType: "text/event-stream", requestBody: REQUEST };
const usage = (i: number, c: number, o: number, r: number) => ({ inputTokens: i, outputTokens: o, cacheCreationInputTokens: 0, cacheReadInputTokens: c, reasoningTokens: r, totalTokens: i + o });

describe("OpenAI Responses stream", () => {
  test("usage comes from response.completed, cached and reasoning as subsets", () => {
    const { result, client } = drive(SSE, [fixture("openai-responses", "reasoning-cached.sse")]);
    expect(result).toEqual({
      format: "openai-responses",
      kind: "usage",
      usage: usage(2406, 1920, 612, 448),
      model: "gpt-5-codex",
      requestId: "resp_68a1c0ffee0001",
      estimated: false,
      errored: false,
    });
    expect(client).toEqual(fixture("openai-responses", "reasoning-cached.sse"));
  });

  test("a function call stream meters from its terminal event", () => {
    expect(drive(SSE, [fixture("openai-responses", "function-call.sse")]).result.usage).toEqual(usage(5120, 4864, 87, 64));
  });

  test("response.incomplete carries final usage: exact, not errored", () => {
    const { result } = drive(SSE, [fixture("openai-responses", "incomplete.sse")]);
    expect(result).toMatchObject({ estimated: false, errored: false, usage: usage(300, 0, 16, 0) });
  });

  test("response.failed carries final usage and marks the exchange errored", () => {
    const { result } = drive(SSE, [fixture("openai-responses", "failed.sse")]);
    expect(result).toMatchObject({ estimated: false, errored: true, usage: usage(900, 0, 3, 0) });
  });

  test("an error event before any terminal event is errored and estimated from the deltas", () => {
    const { result } = drive(SSE, [fixture("openai-responses", "error-midstream.sse")]);
    const delivered = "Some text that arrived before the stream errored.".length;
    expect(result).toMatchObject({ estimated: true, errored: true, requestId: "resp_68a1err0001" });
    expect(result.usage.outputTokens).toBe(Math.ceil(delivered / 4));
    expect(result.usage.inputTokens).toBe(Math.ceil(REQUEST.length / 4));
  });

  test("CRLF line endings give the same usage", () => {
    const lf = drive(SSE, [fixture("openai-responses", "function-call.sse")]).result;
    expect(drive(SSE, [withEndings(fixture("openai-responses", "function-call.sse"), "\r\n")]).result).toEqual(lf);
  });
});

describe("OpenAI Responses stream cut or split at every byte", () => {
  const short = withEndings(fixture("openai-responses", "short.sse"), "\r\n");
  const whole = drive(SSE, [short]).result;

  test("split anywhere or byte by byte gives the one-chunk result", () => {
    expect(whole.usage).toEqual(usage(31, 0, 5, 0));
    for (let i = 0; i <= short.length; i++) expect(drive(SSE, splitAt(short, i)).result).toEqual(whole);
    expect(drive(SSE, byteByByte(short)).result).toEqual(whole);
  });

  test("an abort after every byte never throws, output never goes backwards, and delivered content is never zero", () => {
    const deltaLineEnd = short.indexOf(0x0a, offsetOf(short, "Hé"));
    let previousOutput = 0;
    for (let i = 0; i <= short.length; i++) {
      const { result } = drive(SSE, [short.subarray(0, i)], "abort");
      expect(result.usage.outputTokens).toBeGreaterThanOrEqual(previousOutput);
      if (i > deltaLineEnd) expect(result.usage.totalTokens).toBeGreaterThan(0);
      previousOutput = result.usage.outputTokens;
    }
  });
});

describe("OpenAI Responses JSON and input_tokens", () => {
  test("a non-streamed response meters from its usage", () => {
    const { result } = drive({ path: "/v1/responses", contentType: "application/json" }, [fixture("openai-responses", "response.json")]);
    expect(result).toMatchObject({ usage: usage(1500, 1280, 12, 0), requestId: "resp_68a1json0001", estimated: false });
  });

  test("/v1/responses/input_tokens is a counting call with no usage", () => {
    const { result } = drive({ path: "/v1/responses/input_tokens", contentType: "application/json" }, [fixture("openai-responses", "input-tokens.json")]);
    expect(result).toMatchObject({ kind: "count", estimated: false, errored: false });
    expect(result.usage.totalTokens).toBe(0);
  });
});

describe("OpenAI Responses over WebSocket", () => {
  const frames = text(fixture("openai-responses", "websocket.frames"))
    .split("\n")
    .filter(Boolean)
    .map((l) => ({ direction: l[0] === ">" ? ("up" as const) : ("down" as const), data: l.slice(1) }));

  function socketMeter() {
    const m = selectMeter({ host: "api.openai.com", method: "GET", path: "/v1/responses", requestHeaders: new Headers({ upgrade: "websocket", connection: "Upgrade" }) });
    if (!m) throw new Error("no websocket meter");
    return m;
  }

  test("each response on the socket is metered as it completes; the one in flight at close is estimated", () => {
    const m = socketMeter();
    expect(m.transport).toBe("websocket");
    const results: MeterResult[] = [];
    for (const f of frames) results.push(...m.onWebSocketMessage(f.direction, f.data));
    expect(results.map((r) => [r.requestId, r.usage.totalTokens, r.usage.cacheReadInputTokens, r.estimated])).toEqual([
      ["resp_ws0001", 4020, 3584, false],
      ["resp_ws0002", 4109, 4000, false],
    ]);
    const closed = m.closeSocket();
    expect(closed).toHaveLength(1);
    expect(closed[0]).toMatchObject({ requestId: "resp_ws0003", estimated: true });
    expect(closed[0]!.usage.outputTokens).toBe(Math.ceil("An essay begins with a thesis statement that is clear and then the socket".length / 4));
    expect(m.closeSocket()).toEqual([]);
  });

  test("a response cut off by the next one (new response id, no terminal event) is settled as estimated", () => {
    const m = socketMeter();
    const down = (o: object) => m.onWebSocketMessage("down", JSON.stringify(o));
    expect(m.onWebSocketMessage("up", JSON.stringify({ type: "response.append", input: [] }))).toEqual([]);
    expect(down({ type: "response.created", sequence_number: 0, response: { id: "resp_A", model: "gpt-5", usage: null } })).toEqual([]);
    expect(down({ type: "response.output_text.delta", sequence_number: 1, delta: "twelve chars" })).toEqual([]);
    const cut = down({ type: "response.created", sequence_number: 0, response: { id: "resp_B", model: "gpt-5", usage: null } });
    expect(cut.map((r) => [r.requestId, r.estimated, r.usage.outputTokens])).toEqual([["resp_A", true, 3]]);
    const done = down({ type: "response.completed", sequence_number: 1, response: { id: "resp_B", model: "gpt-5", usage: { input_tokens: 10, output_tokens: 2 } } });
    expect(done.map((r) => [r.requestId, r.estimated, r.usage.totalTokens])).toEqual([["resp_B", false, 12]]);
  });

  test("binary frames are read like text frames", () => {
    const m = socketMeter();
    const results = frames.flatMap((f) => m.onWebSocketMessage(f.direction, new TextEncoder().encode(f.data)));
    expect(results).toHaveLength(2);
  });
});
