/**
 * The metering contract: what a parser produces from one API exchange. Parsers are pure (bytes in, usage
 * out) and live one folder per wire format beside this file; the ledger stores a UsageRecord per metered
 * exchange and budgets count `totalTokens`.
 */

export type ApiFormat = "anthropic-messages" | "openai-chat" | "openai-responses";

/** Token classes, each in its own ledger column. */
export interface Usage {
  /** Uncached input tokens as the provider reports them (OpenAI: includes cached; Anthropic: excludes cache). */
  inputTokens: number;
  outputTokens: number;
  /** Anthropic `cache_creation_input_tokens`. */
  cacheCreationInputTokens: number;
  /** Anthropic `cache_read_input_tokens`, OpenAI `cached_tokens` (a subset of inputTokens there). */
  cacheReadInputTokens: number;
  /** OpenAI `reasoning_tokens` (a subset of outputTokens). */
  reasoningTokens: number;
  /**
   * What a budget counts: every token billed once. Anthropic: input + output + cache creation + cache read.
   * OpenAI: input + output (cached and reasoning are already inside those).
   */
  totalTokens: number;
}

export const ZERO_USAGE: Usage = Object.freeze({
  inputTokens: 0,
  outputTokens: 0,
  cacheCreationInputTokens: 0,
  cacheReadInputTokens: 0,
  reasoningTokens: 0,
  totalTokens: 0,
});

/** The outcome of metering one exchange. */
export interface MeterResult {
  format: ApiFormat;
  /** `usage`: a generation; `count`: a token-counting call (recorded as a call, never as usage); `none`: not metered. */
  kind: "usage" | "count" | "none";
  usage: Usage;
  model?: string;
  /** Provider request / response id (`msg_…`, `chatcmpl-…`, `resp_…`, or the `request-id` header). */
  requestId?: string;
  /** true when part of the usage was estimated (interrupted stream, or no usage block). */
  estimated: boolean;
  /** true when the stream carried an error event (usage is partial). */
  errored: boolean;
  /**
   * Usage the same exchange billed at other models (Anthropic `usage.iterations`, e.g. an advisor), one entry
   * per model; recorded as rows of their own. `usage` never includes these.
   */
  otherModels?: { model: string; usage: Usage }[];
}
