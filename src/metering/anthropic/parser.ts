/**
 * Anthropic Messages API usage. A stream opens with `message_start`, whose `message.usage` holds the input
 * side (input, cache creation, cache read) and a first output count. Each `message_delta.usage` then carries
 * CUMULATIVE counts, some of them null: a non-null field overwrites the earlier value and is never added to it,
 * so several message_deltas count once. `message_stop` ends the stream; an `error` event mid-stream leaves the
 * usage partial. `usage.iterations` lists every sampling step; the steps other than `message` (compaction,
 * advisor, fallback, …) are billed on top of the top-level counts (see readIterations). Content deltas (`text_delta`, `thinking_delta`, `input_json_delta`) are only measured, to
 * estimate the output of a stream cut before its final message_delta.
 */
import { asObject, asString, chars, type FormatParser, type Json, type StreamEvent } from "../format.ts";
import { count, overwrite, type ExtraIteration, type ReportedUsage, type Tally } from "../tally.ts";

/** Reads an Anthropic `usage` object; null or missing fields stay undefined. */
export function readAnthropicUsage(u: Json | undefined): ReportedUsage {
  if (!u) return {};
  return {
    input: count(u.input_tokens),
    output: count(u.output_tokens),
    cacheCreation: count(u.cache_creation_input_tokens),
    cacheRead: count(u.cache_read_input_tokens),
    reasoning: count(asObject(u.output_tokens_details)?.thinking_tokens),
  };
}

/**
 * `usage.iterations`: every sampling step of the request. The top-level counts are the `message` steps;
 * every other kind (compaction, advisor_message, fallback_message and kinds not known yet) is billed on top.
 * Undefined when the usage object has no iterations array, so an earlier snapshot is kept.
 */
export function readIterations(u: Json | undefined): ExtraIteration[] | undefined {
  if (!u || !Array.isArray(u.iterations)) return undefined;
  const out: ExtraIteration[] = [];
  for (const raw of u.iterations) {
    const it = asObject(raw);
    const type = asString(it?.type);
    if (!it || type === "message") continue;
    const model = asString(it.model);
    out.push({ type: type ?? "unknown", ...(model ? { model } : {}), usage: readAnthropicUsage(it) });
  }
  return out;
}

function takeUsage(t: Tally, u: Json | undefined): void {
  overwrite(t.reported, readAnthropicUsage(u));
  const extra = readIterations(u);
  if (extra) t.extra = extra;
}

function noteMessage(t: Tally, m: Json | undefined): void {
  if (!m) return;
  const id = asString(m.id);
  if (id) t.requestId = id;
  const model = asString(m.model);
  if (model) t.model = model;
}

function deltaChars(delta: Json | undefined): number {
  if (!delta) return 0;
  switch (delta.type) {
    case "text_delta":
      return chars(delta.text);
    case "thinking_delta":
      return chars(delta.thinking);
    case "input_json_delta":
      return chars(delta.partial_json);
    default:
      return 0;
  }
}

/** Text already present in a content block's start (server tools, pre-filled text). */
function blockStartChars(block: Json | undefined): number {
  if (!block) return 0;
  return chars(block.text) + chars(block.thinking);
}

/** Characters of generated content in a complete message (for the no-usage estimate). */
function contentChars(content: unknown): number {
  if (!Array.isArray(content)) return 0;
  let n = 0;
  for (const b of content) {
    const block = asObject(b);
    if (!block) continue;
    n += blockStartChars(block);
    if (block.input !== undefined) n += JSON.stringify(block.input)?.length ?? 0;
  }
  return n;
}

export const anthropicParser: FormatParser = {
  format: "anthropic-messages",

  event(t: Tally, ev: StreamEvent): void {
    const j = ev.json;
    const type = asString(j?.type) ?? ev.event;
    switch (type) {
      case "message_start": {
        const m = asObject(j?.message);
        noteMessage(t, m);
        takeUsage(t, asObject(m?.usage));
        break;
      }
      case "message_delta":
        takeUsage(t, asObject(j?.usage));
        break;
      case "content_block_start":
        t.deliveredChars += blockStartChars(asObject(j?.content_block));
        break;
      case "content_block_delta":
        t.deliveredChars += deltaChars(asObject(j?.delta));
        break;
      case "message_stop":
        if (!t.errored) t.final = true;
        break;
      case "error":
        t.errored = true;
        break;
    }
  },

  body(t: Tally, j: Json): void {
    if (j.type === "error" || asObject(j.error)) {
      t.errored = true;
      return;
    }
    noteMessage(t, j);
    const usage = asObject(j.usage);
    t.deliveredChars += contentChars(j.content);
    if (usage) {
      takeUsage(t, usage);
      t.final = true;
    }
  },
};
