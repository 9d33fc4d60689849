import { describe, expect, test } from "bun:test";
import { classifyRoute, selectMeter } from "../../src/metering/index.ts";
import { bytes, drive, fixture } from "./helpers.ts";

describe("selectMeter routing", () => {
  test("generation and token-count endpoints of each format get a meter of the right kind", () => {
    expect(classifyRoute("POST", "/v1/messages")).toEqual({ format: "anthropic-messages", kind: "usage", transport: "http" });
    expect(classifyRoute("POST", "/v1/messages?beta=true")).toEqual({ format: "anthropic-messages", kind: "usage", transport: "http" });
    expect(classifyRoute("POST", "/v1/messages/count_tokens")?.kind).toBe("count");
    expect(classifyRoute("POST", "/v1/chat/completions")?.format).toBe("openai-chat");
    expect(classifyRoute("POST", "/openai/v1/chat/completions/")?.format).toBe("openai-chat");
    expect(classifyRoute("POST", "/v1/responses")?.format).toBe("openai-responses");
    expect(classifyRoute("POST", "/backend-api/codex/responses")?.format).toBe("openai-responses");
    expect(classifyRoute("POST", "/v1/responses/input_tokens")).toEqual({ format: "openai-responses", kind: "count", transport: "http" });
  });

  test("a WebSocket upgrade to /v1/responses is metered by frames", () => {
    expect(classifyRoute("GET", "/v1/responses", new Headers({ upgrade: "websocket" }))?.transport).toBe("websocket");
    expect(classifyRoute("GET", "/v1/responses")).toBeUndefined();
  });

  test("paths that carry no token usage get no meter", () => {
    for (const [m, p] of [["GET", "/v1/models"], ["POST", "/v1/files"], ["POST", "/v1/messages/batches"], ["GET", "/v1/responses/resp_1"], ["DELETE", "/v1/responses/resp_1"]] as const) {
      expect(selectMeter({ host: "api.anthropic.com", method: m, path: p, requestHeaders: new Headers() })).toBeUndefined();
    }
  });
});

describe("selectMeter response handling", () => {
  test("without a content-type the request's stream flag decides between SSE and JSON", () => {
    const sse = fixture("anthropic", "text-cache.sse");
    const streamed = drive({ path: "/v1/messages", requestBody: '{"stream":true}' }, [sse]).result;
    expect(streamed.usage.outputTokens).toBe(17);
    const json = drive({ path: "/v1/messages", requestBody: '{"stream":false}' }, [fixture("anthropic", "message.json")]).result;
    expect(json.usage.outputTokens).toBe(503);
  });

  test("the request's model is used when the response names none", () => {
    const { result } = drive({ path: "/v1/messages", status: 500, contentType: "application/json", requestBody: '{"model":"claude-opus-4-1"}' }, [bytes('{"type":"error","error":{"type":"api_error","message":"Internal"}}')]);
    expect(result).toMatchObject({ model: "claude-opus-4-1", errored: true, estimated: false });
    expect(result.usage.totalTokens).toBe(0);
  });

  test("end and abort are idempotent: the first settlement wins", () => {
    const { meter, result } = drive({ path: "/v1/messages", contentType: "text/event-stream" }, [fixture("anthropic", "text-cache.sse")]);
    expect(meter.abort()).toEqual(result);
    expect(meter.end()).toEqual(result);
  });

  test("garbage in any mode never throws out of the meter", () => {
    let seed = 7;
    const junk = new Uint8Array(3000).map(() => ((seed = (seed * 69069 + 1) >>> 0), seed >>> 24));
    for (const contentType of ["text/event-stream", "application/json", ""]) {
      for (const path of ["/v1/messages", "/v1/chat/completions", "/v1/responses"]) {
        const run = () => drive({ path, contentType, requestBody: '{"stream":true}' }, [junk.subarray(0, 1234), junk.subarray(1234)]);
        expect(run).not.toThrow();
      }
    }
  });
});
