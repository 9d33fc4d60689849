/**
 * The Anthropic Messages wire format, as the real API speaks it: `POST /v1/messages` (JSON, or SSE with
 * message_start carrying the initial usage, content_block_start/delta/stop, message_delta carrying the
 * cumulative usage, message_stop) and `POST /v1/messages/count_tokens`.
 */
import { simId, textPieces, type SimulatorOptions } from "./options.ts";
import { jsonResponse, sseFrame, sseResponse } from "./respond.ts";

type Json = Record<string, unknown>;

function usage(o: SimulatorOptions, outputTokens: number): Json {
  return {
    input_tokens: o.usage.inputTokens,
    cache_creation_input_tokens: o.usage.cacheCreationInputTokens,
    cache_read_input_tokens: o.usage.cacheReadInputTokens,
    output_tokens: outputTokens,
  };
}

function headers(): Record<string, string> {
  return { "request-id": simId("req_sim") };
}

export function anthropicError(o: SimulatorOptions): Response {
  const e = o.error!;
  return jsonResponse(o, { type: "error", error: { type: e.type, message: e.message } }, e.status, headers());
}

export function anthropicCountTokens(o: SimulatorOptions): Response {
  return jsonResponse(o, { input_tokens: o.countTokens ?? o.usage.inputTokens }, 200, headers());
}

export function anthropicMessages(o: SimulatorOptions, body: Json): Response {
  if (o.error) return anthropicError(o);
  const id = simId("msg_sim");
  const model = typeof body.model === "string" ? body.model : o.model;
  const toolId = simId("toolu_sim");
  const stopReason = o.toolUse ? "tool_use" : "end_turn";
  if (body.stream !== true) {
    const content: Json[] = [{ type: "text", text: o.text }];
    if (o.toolUse) content.push({ type: "tool_use", id: toolId, name: o.toolUse.name, input: o.toolUse.input });
    return jsonResponse(o, {
      id, type: "message", role: "assistant", model, content,
      stop_reason: stopReason, stop_sequence: null, usage: usage(o, o.usage.outputTokens),
    }, 200, headers());
  }
  const frames: string[] = [];
  const ev = (type: string, data: Json): void => void frames.push(sseFrame(type, { type, ...data }));
  ev("message_start", {
    message: { id, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: usage(o, 1) },
  });
  ev("content_block_start", { index: 0, content_block: { type: "text", text: "" } });
  ev("ping", {});
  for (const piece of textPieces(o.text)) ev("content_block_delta", { index: 0, delta: { type: "text_delta", text: piece } });
  ev("content_block_stop", { index: 0 });
  if (o.toolUse) {
    ev("content_block_start", { index: 1, content_block: { type: "tool_use", id: toolId, name: o.toolUse.name, input: {} } });
    ev("content_block_delta", { index: 1, delta: { type: "input_json_delta", partial_json: JSON.stringify(o.toolUse.input) } });
    ev("content_block_stop", { index: 1 });
  }
  ev("message_delta", { delta: { stop_reason: stopReason, stop_sequence: null }, usage: usage(o, o.usage.outputTokens) });
  ev("message_stop", {});
  return sseResponse(o, frames, headers());
}
