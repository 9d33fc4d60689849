/**
 * The OpenAI Responses wire format, the one Codex speaks: `POST /v1/responses` as JSON, or as SSE semantic
 * events (response.created, response.in_progress, output_item/content_part added, output_text deltas, the
 * matching done events, response.completed with usage including input_tokens_details.cached_tokens and
 * output_tokens_details.reasoning_tokens), each with an increasing sequence_number and no `[DONE]`; plus
 * `POST /v1/responses/input_tokens`. A non-streamed request with `background: true` is answered the way the API
 * answers it: a `queued` response with `usage: null` at once, the model's work (and its usage) only later,
 * from `GET /v1/responses/{id}`.
 */
import { simId, textPieces, type SimulatorOptions } from "./options.ts";
import { jsonResponse, sseFrame, sseResponse } from "./respond.ts";
import { openaiError } from "./openai-chat.ts";
import { responsesCall } from "./responses-tools.ts";

type Json = Record<string, unknown>;

function usage(o: SimulatorOptions): Json {
  const u = o.usage;
  return {
    input_tokens: u.inputTokens,
    input_tokens_details: { cached_tokens: u.cacheReadInputTokens },
    output_tokens: u.outputTokens,
    output_tokens_details: { reasoning_tokens: u.reasoningTokens },
    total_tokens: u.inputTokens + u.outputTokens,
  };
}

export function responsesInputTokens(o: SimulatorOptions): Response {
  return jsonResponse(o, { object: "response.input_tokens", input_tokens: o.countTokens ?? o.usage.inputTokens });
}

/** Background responses, finished, by id: what `GET /v1/responses/{id}` returns (bounded, oldest dropped). */
const finished = new Map<string, Json>();

export function retrieveResponse(id: string): Response | undefined {
  const r = finished.get(id);
  return r ? Response.json(r) : undefined;
}

export function responses(o: SimulatorOptions, body: Json): Response {
  if (o.error) return openaiError(o);
  const id = simId("resp_sim");
  const msgId = simId("msg_sim");
  const model = typeof body.model === "string" ? body.model : o.model;
  const createdAt = Math.floor(Date.now() / 1000);
  const textPart = { type: "output_text", text: o.text, annotations: [] };
  const message = { id: msgId, type: "message", status: "completed", role: "assistant", content: [textPart] };
  // The shell step goes through the tool the client offered (Codex's change between releases).
  const shaped = o.toolUse ? responsesCall(body, o.toolUse) : undefined;
  const call = shaped ? { id: simId(shaped.type === "custom_tool_call" ? "ctc_sim" : "fc_sim"), status: "completed", call_id: simId("call_sim"), ...shaped } : undefined;
  const output = call ? [message, call] : [message];
  const base = (status: string, out: unknown[], u: Json | null): Json => ({
    id, object: "response", created_at: createdAt, status, error: null, incomplete_details: null, instructions: null,
    max_output_tokens: null, model, output: out, parallel_tool_calls: true, previous_response_id: null,
    reasoning: { effort: null, summary: null }, store: false, temperature: 1, text: { format: { type: "text" } },
    tool_choice: "auto", tools: [], top_p: 1, truncation: "disabled", usage: u, user: null, metadata: {},
  });
  const extra = { "x-request-id": simId("req_sim") };
  if (body.background === true && body.stream !== true) {
    if (finished.size >= 100) finished.delete(finished.keys().next().value!);
    finished.set(id, { ...base("completed", output, usage(o)), background: true });
    return jsonResponse(o, { ...base("queued", [], null), background: true }, 200, extra);
  }
  if (body.stream !== true) return jsonResponse(o, base("completed", output, usage(o)), 200, extra);

  const frames: string[] = [];
  let seq = 0;
  const ev = (type: string, data: Json): void => void frames.push(sseFrame(type, { type, sequence_number: seq++, ...data }));
  ev("response.created", { response: base("in_progress", [], null) });
  ev("response.in_progress", { response: base("in_progress", [], null) });
  ev("response.output_item.added", { output_index: 0, item: { ...message, status: "in_progress", content: [] } });
  ev("response.content_part.added", { item_id: msgId, output_index: 0, content_index: 0, part: { ...textPart, text: "" } });
  for (const piece of textPieces(o.text)) ev("response.output_text.delta", { item_id: msgId, output_index: 0, content_index: 0, delta: piece, logprobs: [] });
  ev("response.output_text.done", { item_id: msgId, output_index: 0, content_index: 0, text: o.text, logprobs: [] });
  ev("response.content_part.done", { item_id: msgId, output_index: 0, content_index: 0, part: textPart });
  ev("response.output_item.done", { output_index: 0, item: message });
  if (call?.type === "function_call") {
    ev("response.output_item.added", { output_index: 1, item: { ...call, status: "in_progress", arguments: "" } });
    ev("response.function_call_arguments.delta", { item_id: call.id, output_index: 1, delta: call.arguments });
    ev("response.function_call_arguments.done", { item_id: call.id, output_index: 1, arguments: call.arguments });
    ev("response.output_item.done", { output_index: 1, item: call });
  } else if (call?.type === "custom_tool_call") {
    ev("response.output_item.added", { output_index: 1, item: { ...call, status: "in_progress", input: "" } });
    ev("response.custom_tool_call_input.delta", { item_id: call.id, output_index: 1, delta: call.input });
    ev("response.custom_tool_call_input.done", { item_id: call.id, output_index: 1, input: call.input });
    ev("response.output_item.done", { output_index: 1, item: call });
  }
  ev("response.completed", { response: base("completed", output, usage(o)) });
  return sseResponse(o, frames, extra);
}
