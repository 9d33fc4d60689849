/**
 * What a simulated provider answers: the reply text, the usage it reports, how fast it streams, whether it
 * compresses or cuts the stream, and whether the turn is a tool call. One object drives all three wire
 * formats, so a test (or the README quick start) can ask any client for the same conversation.
 */

export interface SimUsage {
  inputTokens: number;
  outputTokens: number;
  /** Anthropic cache_creation_input_tokens. */
  cacheCreationInputTokens: number;
  /** Anthropic cache_read_input_tokens / OpenAI cached_tokens (a subset of input there). */
  cacheReadInputTokens: number;
  /** OpenAI reasoning_tokens (a subset of output). */
  reasoningTokens: number;
}

export interface SimulatorOptions {
  /** The assistant's reply; streamed word by word. */
  text: string;
  /** Model name echoed back when the request names none. */
  model: string;
  usage: SimUsage;
  /** Pause before each streamed event (ms). */
  chunkDelayMs: number;
  /** Compress every response body this way, whatever the client accepts (a misbehaving upstream). */
  compression?: "gzip" | "br" | "deflate";
  /** End a stream abruptly after this many events (the connection breaks mid-body). */
  cutAfterEvents?: number;
  /** Answer with a tool call instead of (after) the text. */
  toolUse?: { name: string; input: Record<string, unknown> };
  /**
   * With `toolUse`: only the first this-many generations call the tool; later ones answer with text only, so
   * an agent loops a known number of turns and then finishes (the quick start's multi-request run).
   */
  toolTurns?: number;
  /** Tokens reported by the count endpoints; default usage.inputTokens. */
  countTokens?: number;
  /** Answer every generation with this provider-shaped error instead. */
  error?: { status: number; type: string; message: string };
  /**
   * Awaited before the server sends streamed event `index` (0-based) of `total`. Lets a test hold the
   * stream at a known point, e.g. to prove a chunk reached the client before the next one was sent.
   */
  beforeEvent?: (index: number, total: number) => void | Promise<void>;
}

export const DEFAULT_SIM_OPTIONS: SimulatorOptions = {
  text: "Hello from the bottle simulator.",
  model: "sim-model",
  usage: { inputTokens: 25, outputTokens: 12, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, reasoningTokens: 0 },
  chunkDelayMs: 0,
};

/** The reply split into streamable pieces (words with their trailing space). */
export function textPieces(text: string): string[] {
  const parts = text.match(/\S+\s*|\s+/g);
  return parts && parts.length > 0 ? parts : [""];
}

let seq = 0;
export function simId(prefix: string): string {
  seq += 1;
  return `${prefix}${Date.now().toString(36)}${seq.toString(36).padStart(4, "0")}`;
}
