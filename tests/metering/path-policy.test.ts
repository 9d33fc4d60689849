/**
 * The path policy on a metered host, as a pure function: every generation and counting endpoint is metered,
 * reads pass, a route's `unmetered:` list lets its paths through, and every other request that can change
 * state (batches, file uploads, the legacy `/v1/complete`, paths nobody has named) is refused with a reason
 * that names the path and the route key that would allow it. Dot segments are judged as the upstream
 * resolves them, and hidden separators are refused.
 */
import { describe, expect, test } from "bun:test";
import { bodyProblem, optedIn, pathVerdict, resolvedPath } from "../../src/metering/path-policy.ts";

const v = (method: string, path: string, unmetered?: string[], headers?: Headers) =>
  pathVerdict({ method, path, host: "api.example.com", routeHost: "api.example.com", ...(unmetered ? { unmetered } : {}), ...(headers ? { headers } : {}) });

describe("pathVerdict", () => {
  test("every endpoint that reports its own usage is metered, in its own format", () => {
    const cases: [string, string, string][] = [
      ["/v1/messages?beta=true", "anthropic-messages", "usage"],
      ["/v1/messages/count_tokens", "anthropic-messages", "count"],
      ["/v1/chat/completions", "openai-chat", "usage"],
      ["/v1/completions", "openai-chat", "usage"],
      ["/v1/embeddings", "openai-chat", "usage"],
      ["/v1/responses", "openai-responses", "usage"],
      ["/v1/responses/input_tokens", "openai-responses", "count"],
      ["/v1/responses/compact", "openai-responses", "usage"],
      ["/backend-api/codex/responses", "openai-responses", "usage"],
    ];
    for (const [path, format, kind] of cases) expect(v("POST", path)).toEqual({ kind: "metered", route: { format, kind, transport: "http" } } as never);
  });

  test("state-changing requests on paths bottle cannot meter are refused, naming the path and the route key", () => {
    for (const [m, p] of [["POST", "/v1/messages/batches"], ["POST", "/v1/complete"], ["POST", "/v1/batches"], ["POST", "/v1/files"], ["PUT", "/v1/anything"], ["DELETE", "/v1/files/file_1"], ["POST", "/v1/messages/batches/msgbatch_1/cancel"]] as const) {
      const r = v(m, p);
      expect(r.kind).toBe("refuse");
      if (r.kind === "refuse") {
        expect(r.reason).toContain(`${m} ${p} on api.example.com cannot be metered`);
        expect(r.reason).toContain(`add unmetered: ["${p}"] to the egress route for api.example.com`);
      }
    }
  });

  test("reads stay allowed: results, model lists, batch status", () => {
    for (const [m, p] of [["GET", "/v1/models"], ["GET", "/v1/messages/batches/msgbatch_1/results"], ["HEAD", "/v1/files/f"], ["OPTIONS", "/v1/messages"]] as const) expect(v(m, p)).toEqual({ kind: "read" });
  });

  test("a WebSocket upgrade is not a read: metered on /responses, refused elsewhere", () => {
    const ws = new Headers({ upgrade: "websocket" });
    expect(v("GET", "/v1/responses", undefined, ws).kind).toBe("metered");
    expect(v("GET", "/v1/realtime", undefined, ws).kind).toBe("refuse");
  });

  test("a route's unmetered: list opts in a path and everything under it, nothing else", () => {
    expect(v("POST", "/v1/files", ["/v1/files"])).toEqual({ kind: "unmetered", rule: "/v1/files" });
    expect(v("DELETE", "/v1/files/file_1?x=1", ["/v1/files"])).toEqual({ kind: "unmetered", rule: "/v1/files" });
    expect(v("POST", "/v1/filesystem", ["/v1/files"]).kind).toBe("refuse");
    expect(optedIn(["/v1/files/"], "/v1/files/a")).toBe("/v1/files/");
  });

  test("paths are judged as the upstream resolves them; hidden separators are refused", () => {
    expect(resolvedPath("/v1/messages/../batches")).toBe("/v1/batches");
    expect(v("POST", "/v1/messages/../batches").kind).toBe("refuse");
    expect(v("POST", "/v1/messages/%2e%2e/batches").kind).toBe("refuse");
    expect(v("POST", "/v1/batches/../messages").kind).toBe("metered");
    expect(v("POST", "/v1/complete%2F..%2Fmessages").kind).toBe("refuse");
    expect(v("POST", "/v1/files/..%5cmessages").kind).toBe("refuse");
    // An opt-in cannot be stretched with dot segments either.
    expect(v("POST", "/v1/files/../batches", ["/v1/files"]).kind).toBe("refuse");
  });
});

describe("bodyProblem", () => {
  const enc = (o: unknown) => new TextEncoder().encode(typeof o === "string" ? o : JSON.stringify(o));
  const responses = { format: "openai-responses", kind: "usage", transport: "http" } as const;
  const chat = { format: "openai-chat", kind: "usage", transport: "http" } as const;
  const count = { format: "openai-responses", kind: "count", transport: "http" } as const;

  test("a Responses request with background set is refused, naming the option and the way out", () => {
    const why = bodyProblem(responses, "POST", "/v1/responses", "api.openai.com", enc({ model: "gpt-5", input: "x", background: true }));
    expect(why).toContain("POST /v1/responses on api.openai.com asks for background: true");
    expect(why).toContain("send it without background");
    // Anything but false or null is a request for it (the meter must not guess what the API accepts).
    expect(bodyProblem(responses, "POST", "/v1/responses", "h", enc({ background: "true" }))).toContain("background");
    expect(bodyProblem(responses, "POST", "/v1/responses", "h", enc({ model: "m", background: false }))).toBeUndefined();
    expect(bodyProblem(responses, "POST", "/v1/responses", "h", enc({ model: "m", stream: true }))).toBeUndefined();
  });

  test("a generation body bottle cannot read as a JSON object is refused; counting calls and empty bodies are not judged", () => {
    for (const bad of ['{"model":"m","temperature":NaN}', "[1]", "not json", '{"a":1} trailing']) {
      expect(bodyProblem(chat, "POST", "/v1/chat/completions", "h", enc(bad))).toContain("not a JSON object bottle can read");
    }
    expect(bodyProblem(chat, "POST", "/v1/chat/completions", "h", new Uint8Array([0x7b, 0xff, 0x7d]))).toContain("not a JSON object");
    expect(bodyProblem(chat, "POST", "/v1/chat/completions", "h", enc({ model: "m" }))).toBeUndefined();
    expect(bodyProblem(count, "POST", "/v1/responses/input_tokens", "h", enc("not json"))).toBeUndefined();
    expect(bodyProblem(chat, "POST", "/v1/chat/completions", "h", new Uint8Array())).toBeUndefined();
  });
});
