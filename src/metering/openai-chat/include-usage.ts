/**
 * Chat Completions only reports usage in a stream when the request sets `stream_options.include_usage`.
 * Agents often don't, and an unmetered stream is not acceptable, so bottle sets it on the way up and remembers
 * that it did: the response filter (./strip-usage.ts) then removes what the option added, so the client sees
 * the stream it asked for. The rewrite is pure; a body that is not a JSON object, or not a stream, or that
 * already asks for usage, is left untouched byte for byte.
 */
import { asObject, parseObject } from "../format.ts";

export interface IncludeUsageRewrite {
  body: Uint8Array;
  /** true when bottle added include_usage, so the response must be filtered. */
  injected: boolean;
}

export function injectIncludeUsage(body: Uint8Array): IncludeUsageRewrite {
  const j = parseObject(new TextDecoder().decode(body));
  if (!j || j.stream !== true) return { body, injected: false };
  const opts = asObject(j.stream_options);
  if (opts?.include_usage === true) return { body, injected: false };
  j.stream_options = { ...opts, include_usage: true };
  return { body: new TextEncoder().encode(JSON.stringify(j)), injected: true };
}
