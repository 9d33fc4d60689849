/**
 * The OpenAI Chat Completions wire format: `POST /v1/chat/completions` as JSON, or as SSE
 * `chat.completion.chunk`s ending in `data: [DONE]`. As in the real API, a streamed answer carries usage
 * only when the request set `stream_options.include_usage`: then every chunk has `usage: null` and one
 * extra chunk with empty `choices` carries the totals.
 */
import { simId, textPieces, type SimulatorOptions } from "./options.ts";
import { jsonResponse, sseFrame, sseResponse } from "./respond.ts";

type Json = Record<string, unknown>;

function usage(o: SimulatorOptions): Json {
  const u = o.usage;
  return {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
    prompt_tokens_details: { cached_tokens: u.cacheReadInputTokens, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: u.reasoningTokens, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

export function openaiError(o: SimulatorOptions): Response {
  const e = o.error!;
  return jsonResponse(o, { error: { message: e.message, type: e.type, param: null, code: null } }, e.status, { "x-request-id": simId("req_sim") });
}

export function chatCompletions(o: SimulatorOptions, body: Json): Response {
  if (o.error) return openaiError(o);
  const id = simId("chatcmpl-sim");
  const created = Math.floor(Date.now() / 1000);
  const model = typeof body.model === "string" ? body.model : o.model;
  const fp = "fp_sim";
  const toolCalls = o.toolUse
    ? [{ id: simId("call_sim"), type: "function", function: { name: o.toolUse.name, arguments: JSON.stringify(o.toolUse.input) } }]
    : undefined;
  const finish = o.toolUse ? "tool_calls" : "stop";
  const extra = { "x-request-id": simId("req_sim") };
  if (body.stream !== true) {
    return jsonResponse(o, {
      id, object: "chat.completion", created, model, system_fingerprint: fp,
      choices: [{ index: 0, message: { role: "assistant", content: o.text, refusal: null, ...(toolCalls ? { tool_calls: toolCalls } : {}) }, logprobs: null, finish_reason: finish }],
      usage: usage(o),
    }, 200, extra);
  }
  const opts = body.stream_options as Json | undefined;
  const includeUsage = opts?.include_usage === true;
  const frames: string[] = [];
  const chunk = (delta: Json, finishReason: string | null): void => {
    const c: Json = { id, object: "chat.completion.chunk", created, model, system_fingerprint: fp, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] };
    if (includeUsage) c.usage = null;
    frames.push(sseFrame(undefined, c));
  };
  chunk({ role: "assistant", content: "", refusal: null }, null);
  for (const piece of textPieces(o.text)) chunk({ content: piece }, null);
  if (toolCalls) chunk({ tool_calls: toolCalls.map((t, index) => ({ index, ...t })) }, null);
  chunk({}, finish);
  if (includeUsage) frames.push(sseFrame(undefined, { id, object: "chat.completion.chunk", created, model, system_fingerprint: fp, choices: [], usage: usage(o) }));
  frames.push(sseFrame(undefined, "[DONE]"));
  return sseResponse(o, frames, extra);
}
