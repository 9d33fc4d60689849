/**
 * OpenAI Responses API usage. Streams (SSE, or one JSON event per WebSocket frame) end with one of
 * `response.completed`, `response.incomplete` or `response.failed`, whose `response.usage` is the whole
 * exchange's usage; there is no `[DONE]`. `input_tokens` includes `cached_tokens` and `output_tokens`
 * includes `reasoning_tokens`. Every `*.delta` event (output text, reasoning, tool arguments, refusals) is
 * only measured, for the estimate of a stream cut before its terminal event.
 */
import { asArray, asObject, asString, chars, type FormatParser, type Json, type StreamEvent } from "../format.ts";
import { count, overwrite, type ReportedUsage, type Tally } from "../tally.ts";

export function readResponsesUsage(u: Json | undefined): ReportedUsage {
  if (!u) return {};
  const inDetails = asObject(u.input_tokens_details);
  return {
    input: count(u.input_tokens),
    output: count(u.output_tokens),
    cacheRead: count(inDetails?.cached_tokens),
    // A subset of input_tokens, like cached_tokens; recorded for visibility, never added to the total.
    cacheCreation: count(inDetails?.cache_write_tokens),
    reasoning: count(asObject(u.output_tokens_details)?.reasoning_tokens),
  };
}

export const TERMINAL_EVENTS = new Set(["response.completed", "response.incomplete", "response.failed"]);

function noteResponse(t: Tally, r: Json | undefined): void {
  if (!r) return;
  const id = asString(r.id);
  if (id) t.requestId = id;
  const model = asString(r.model);
  if (model) t.model = model;
  if (r.status === "failed" || asObject(r.error)) t.errored = true;
  const usage = asObject(r.usage);
  if (usage) {
    overwrite(t.reported, readResponsesUsage(usage));
    t.final = true;
  }
}

/** Generated characters in a complete response's `output` items. */
function outputChars(output: unknown): number {
  let n = 0;
  for (const it of asArray(output)) {
    const item = asObject(it);
    if (!item) continue;
    n += chars(item.arguments) + chars(item.input);
    for (const c of [...asArray(item.content), ...asArray(item.summary)]) n += chars(asObject(c)?.text) + chars(asObject(c)?.refusal);
  }
  return n;
}

export const responsesParser: FormatParser = {
  format: "openai-responses",

  event(t: Tally, ev: StreamEvent): void {
    const j = ev.json;
    if (!j) return;
    const type = asString(j.type) ?? ev.event;
    if (type === "error") {
      t.errored = true;
      return;
    }
    if (type.endsWith(".delta")) {
      t.deliveredChars += chars(j.delta);
      return;
    }
    const r = asObject(j.response);
    if (TERMINAL_EVENTS.has(type)) noteResponse(t, r);
    else if (r) noteResponse(t, { ...r, usage: undefined });
  },

  body(t: Tally, j: Json): void {
    t.deliveredChars += outputChars(j.output);
    noteResponse(t, j);
  },
};
