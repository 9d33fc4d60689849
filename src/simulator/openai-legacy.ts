/**
 * Two more OpenAI endpoints that bill tokens and report them: legacy Completions (`POST /v1/completions`,
 * `text_completion` objects with `choices[].text`; streamed, usage only with `stream_options.include_usage`,
 * in a final chunk with empty `choices`, as in Chat) and Embeddings (`POST /v1/embeddings`, a list of
 * vectors and `usage: {prompt_tokens, total_tokens}`). They let tests prove the proxy meters both exactly.
 */
import { simId, textPieces, type SimulatorOptions } from "./options.ts";
import { openaiError } from "./openai-chat.ts";
import { jsonResponse, sseFrame, sseResponse } from "./respond.ts";

type Json = Record<string, unknown>;

function usage(o: SimulatorOptions): Json {
  const u = o.usage;
  return { prompt_tokens: u.inputTokens, completion_tokens: u.outputTokens, total_tokens: u.inputTokens + u.outputTokens };
}

export function completions(o: SimulatorOptions, body: Json): Response {
  if (o.error) return openaiError(o);
  const id = simId("cmpl-sim");
  const created = Math.floor(Date.now() / 1000);
  const model = typeof body.model === "string" ? body.model : o.model;
  const extra = { "x-request-id": simId("req_sim") };
  if (body.stream !== true) {
    return jsonResponse(o, { id, object: "text_completion", created, model, choices: [{ text: o.text, index: 0, logprobs: null, finish_reason: "stop" }], usage: usage(o) }, 200, extra);
  }
  const includeUsage = (body.stream_options as Json | undefined)?.include_usage === true;
  const frames: string[] = [];
  const chunk = (text: string, finish: string | null): void => {
    const c: Json = { id, object: "text_completion", created, model, choices: [{ text, index: 0, logprobs: null, finish_reason: finish }] };
    if (includeUsage) c.usage = null;
    frames.push(sseFrame(undefined, c));
  };
  for (const piece of textPieces(o.text)) chunk(piece, null);
  chunk("", "stop");
  if (includeUsage) frames.push(sseFrame(undefined, { id, object: "text_completion", created, model, choices: [], usage: usage(o) }));
  frames.push(sseFrame(undefined, "[DONE]"));
  return sseResponse(o, frames, extra);
}

export function embeddings(o: SimulatorOptions, body: Json): Response {
  if (o.error) return openaiError(o);
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  const model = typeof body.model === "string" ? body.model : o.model;
  const data = inputs.map((_, index) => ({ object: "embedding", index, embedding: [0.0023064255, -0.009327292, 0.015797347] }));
  return jsonResponse(o, { object: "list", data, model, usage: { prompt_tokens: o.usage.inputTokens, total_tokens: o.usage.inputTokens } }, 200, { "x-request-id": simId("req_sim") });
}
