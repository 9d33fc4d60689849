/**
 * OpenAI Chat Completions usage. A streamed completion reports usage only in its last chunk, and only when
 * the request set `stream_options.include_usage` (bottle adds it, see ./include-usage.ts): that chunk has
 * `choices: []` and a `usage` object, and every earlier chunk has `usage: null`. `prompt_tokens` includes the
 * cached prompt tokens and `completion_tokens` includes the reasoning tokens, so those two are recorded in
 * their own columns as subsets, and so is `cache_write_tokens`. The same reader serves legacy Completions
 * (`choices[].text`, the same usage block and the same include_usage rule) and Embeddings (`usage` with
 * `prompt_tokens` only). Content deltas are only measured, for the estimate of a cut stream.
 */
import { asArray, asObject, asString, chars, type FormatParser, type Json, type StreamEvent } from "../format.ts";
import { count, overwrite, type ReportedUsage, type Tally } from "../tally.ts";

export function readChatUsage(u: Json | undefined): ReportedUsage {
  if (!u) return {};
  return {
    input: count(u.prompt_tokens),
    output: count(u.completion_tokens),
    cacheRead: count(asObject(u.prompt_tokens_details)?.cached_tokens),
    // A subset of prompt_tokens, like cached_tokens (the Responses parser reads the same field).
    cacheCreation: count(asObject(u.prompt_tokens_details)?.cache_write_tokens),
    reasoning: count(asObject(u.completion_tokens_details)?.reasoning_tokens),
  };
}

/** Generated characters in a `delta` (stream) or `message` (JSON) of one choice. */
function messageChars(m: Json | undefined): number {
  if (!m) return 0;
  let n = chars(m.content) + chars(m.refusal) + chars(m.reasoning_content) + chars(m.reasoning);
  for (const c of asArray(m.tool_calls)) {
    const fn = asObject(asObject(c)?.function);
    n += chars(fn?.name) + chars(fn?.arguments);
  }
  const legacy = asObject(m.function_call);
  return n + chars(legacy?.name) + chars(legacy?.arguments);
}

function note(t: Tally, j: Json): void {
  const id = asString(j.id);
  if (id) t.requestId = id;
  const model = asString(j.model);
  if (model) t.model = model;
  if (asObject(j.error)) t.errored = true;
}

function takeUsage(t: Tally, j: Json): void {
  const usage = asObject(j.usage);
  if (!usage) return;
  overwrite(t.reported, readChatUsage(usage));
  t.final = true;
}

export const chatParser: FormatParser = {
  format: "openai-chat",

  event(t: Tally, ev: StreamEvent): void {
    const j = ev.json;
    if (!j) return; // `[DONE]` or noise
    note(t, j);
    for (const c of asArray(j.choices)) t.deliveredChars += messageChars(asObject(asObject(c)?.delta)) + chars(asObject(c)?.text);
    takeUsage(t, j);
  },

  body(t: Tally, j: Json): void {
    note(t, j);
    for (const c of asArray(j.choices)) t.deliveredChars += messageChars(asObject(asObject(c)?.message)) + chars(asObject(c)?.text);
    takeUsage(t, j);
  },
};
