import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import type { EgressProxy, RunHandle } from "../../src/proxy/proxy.ts";
import type { Simulator } from "../../src/simulator/server.ts";
import { bottleCa, startTlsSimulator, testProxy } from "../support/proxy-fixture.ts";

let sim: Simulator;
let proxy: EgressProxy;
let run: RunHandle;
const streamed = new Map<string, string>();
const paths: string[] = [];

beforeAll(async () => {
  sim = startTlsSimulator({
    text: "The official client works through bottle.",
    usage: { inputTokens: 120, outputTokens: 34, cacheReadInputTokens: 100, cacheCreationInputTokens: 7, reasoningTokens: 9 },
    countTokens: 77,
  });
  proxy = testProxy({
    env: { HOST_ANTHROPIC_KEY: "sk-ant-real", HOST_OPENAI_KEY: "sk-openai-real" },
    hooks: {
      onRequest: (ctx) => void paths.push(`${ctx.provider}:${ctx.path}`),
      onResponseChunk: (ctx, c) => void streamed.set(ctx.id, (streamed.get(ctx.id) ?? "") + new TextDecoder().decode(c)),
    },
  });
  run = await proxy.openRun({
    runId: "run-sdk",
    routes: [
      { host: "api.anthropic.com", upstream: sim.url, auth: { header: "x-api-key", env: "HOST_ANTHROPIC_KEY" } },
      { host: "api.openai.com", upstream: sim.url, auth: { header: "authorization", env: "HOST_OPENAI_KEY", prefix: "Bearer " } },
    ],
  });
});

afterAll(async () => {
  await run.close();
  await proxy.close();
  await sim.close();
});

// The SDKs call Bun's fetch; these options send them through the proxy and trust bottle's CA, as
// HTTPS_PROXY and NODE_EXTRA_CA_CERTS do for an agent.
const through = () => ({ proxy: run.proxyUrl, tls: { ca: bottleCa().certPem } }) as never;

describe("official SDKs through the proxy", () => {
  test("@anthropic-ai/sdk: streaming messages.create yields the text and usage, with the host's key upstream", async () => {
    const client = new Anthropic({ apiKey: "placeholder", fetchOptions: through(), maxRetries: 0 });
    const stream = await client.messages.create({ model: "claude-sim", max_tokens: 100, stream: true, messages: [{ role: "user", content: "hi" }] });
    let text = "";
    let startUsage: unknown;
    let deltaUsage: unknown;
    for await (const ev of stream) {
      if (ev.type === "message_start") startUsage = ev.message.usage;
      if (ev.type === "content_block_delta" && ev.delta.type === "text_delta") text += ev.delta.text;
      if (ev.type === "message_delta") deltaUsage = ev.usage;
    }
    expect(text).toBe("The official client works through bottle.");
    expect(startUsage).toMatchObject({ input_tokens: 120, cache_read_input_tokens: 100, cache_creation_input_tokens: 7, output_tokens: 1 });
    expect(deltaUsage).toMatchObject({ output_tokens: 34, input_tokens: 120 });
    expect(sim.requests.at(-1)!.headers["x-api-key"]).toBe("sk-ant-real");
    expect([...streamed.values()].at(-1)).toContain("event: message_stop");
  });

  test("@anthropic-ai/sdk: a streamed tool-use turn and countTokens parse", async () => {
    const client = new Anthropic({ apiKey: "placeholder", fetchOptions: through(), maxRetries: 0 });
    sim.set({ toolUse: { name: "bash", input: { command: "ls -la" } } });
    try {
      const msg = await client.messages.stream({ model: "claude-sim", max_tokens: 100, messages: [{ role: "user", content: "list" }] }).finalMessage();
      expect(msg.stop_reason).toBe("tool_use");
      expect(msg.content.find((b) => b.type === "tool_use")).toMatchObject({ name: "bash", input: { command: "ls -la" } });
    } finally {
      sim.set({ toolUse: undefined });
    }
    const count = await client.messages.countTokens({ model: "claude-sim", messages: [{ role: "user", content: "hi" }] });
    expect(count.input_tokens).toBe(77);
  });

  test("openai: a streaming chat completion with include_usage yields the text and the usage chunk", async () => {
    const client = new OpenAI({ apiKey: "placeholder", fetchOptions: through(), maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: "gpt-sim", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "hi" }] });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("The official client works through bottle.");
    expect(usage).toMatchObject({ prompt_tokens: 120, completion_tokens: 34, total_tokens: 154, prompt_tokens_details: { cached_tokens: 100 }, completion_tokens_details: { reasoning_tokens: 9 } });
    expect(sim.requests.at(-1)!.headers.authorization).toBe("Bearer sk-openai-real");
  });

  test("openai: a streaming chat completion without include_usage carries no usage, as the real API", async () => {
    const client = new OpenAI({ apiKey: "placeholder", fetchOptions: through(), maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: "gpt-sim", stream: true, messages: [{ role: "user", content: "hi" }] });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((c) => !c.usage)).toBe(true);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("stop");
  });

  test("openai: a streaming Responses call ends with response.completed carrying cached and reasoning tokens", async () => {
    const client = new OpenAI({ apiKey: "placeholder", fetchOptions: through(), maxRetries: 0 });
    const stream = await client.responses.create({ model: "gpt-sim", input: "hi", stream: true });
    const types: string[] = [];
    let text = "";
    let completed: OpenAI.Responses.Response | undefined;
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === "response.output_text.delta") text += ev.delta;
      if (ev.type === "response.completed") completed = ev.response;
    }
    expect(types[0]).toBe("response.created");
    expect(types.at(-1)).toBe("response.completed");
    expect(text).toBe("The official client works through bottle.");
    expect(completed!.output[0]).toMatchObject({ type: "message", content: [{ type: "output_text", text: "The official client works through bottle." }] });
    const whole = await client.responses.create({ model: "gpt-sim", input: "hi" });
    expect(whole.output_text).toBe("The official client works through bottle.");
    expect(completed!.usage).toMatchObject({ input_tokens: 120, output_tokens: 34, total_tokens: 154, input_tokens_details: { cached_tokens: 100 }, output_tokens_details: { reasoning_tokens: 9 } });
    const count = await client.responses.inputTokens.count({ model: "gpt-sim", input: "hi" });
    expect(count.input_tokens).toBe(77);
    expect(paths).toContain("codex:/v1/responses");
  });
});
