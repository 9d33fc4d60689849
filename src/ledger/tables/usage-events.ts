/**
 * `usage_events`: one row per metered exchange, written when the response ends. Each token class has its
 * own column; `total_tokens` is what budgets count. The run's agent and bottles are copied onto the row so
 * history stays attributable even if a run row is edited later. Token-count calls are rows of kind `count`
 * with zero tokens: recorded as calls, never as usage.
 */
import type { ColumnType, Generated } from "kysely";

type Tokens = ColumnType<number, number | undefined, number>;

export interface UsageEventsTable {
  id: Generated<number>;
  run_id: string;
  agent: ColumnType<string, string | undefined, string>;
  /** JSON arrays, as on the run. */
  bottles: ColumnType<string, string | undefined, string>;
  chain: ColumnType<string, string | undefined, string>;
  provider: string;
  /** anthropic-messages | openai-chat | openai-responses. */
  format: string | null;
  /** usage | count. */
  kind: ColumnType<string, string | undefined, string>;
  model: string | null;
  host: string | null;
  method: string | null;
  path: string | null;
  status: number | null;
  input_tokens: Tokens;
  output_tokens: Tokens;
  /** Anthropic cache_creation_input_tokens. */
  cache_creation_tokens: Tokens;
  /** Anthropic cache_read_input_tokens (billed on top of input). */
  cache_read_tokens: Tokens;
  /** OpenAI cached_tokens (already inside input_tokens). */
  cached_tokens: Tokens;
  /** OpenAI reasoning_tokens (already inside output_tokens). */
  reasoning_tokens: Tokens;
  total_tokens: number;
  /** 1 when part of the usage was estimated (interrupted stream, no usage block). */
  estimated: ColumnType<number, number | undefined, number>;
  /** 1 when the exchange failed (HTTP error status, or an error event mid-stream). */
  errored: ColumnType<number, number | undefined, number>;
  /** The provider's id for the request (`msg_…`, `chatcmpl-…`, `resp_…`, or the request-id header). */
  request_id: string | null;
  /** The proxy's id for the exchange (matches nothing upstream; for correlating logs). */
  exchange_id: string | null;
  /** When the request reached the proxy (ms since epoch). */
  started_at: number | null;
  /** ms from the request to the upstream's response headers. */
  first_byte_ms: number | null;
  /** ms from the request to the end of the response. */
  duration_ms: number | null;
  /** When the usage was recorded (the response's end): what budget windows count by. */
  created_at: number;
}
