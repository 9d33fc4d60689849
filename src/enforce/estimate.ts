/**
 * The local input estimate for `preflight: estimate` (and the fallback of `preflight: provider`).
 *
 * OpenAI input is counted with a real tokenizer, gpt-tokenizer's o200k_base, the encoding of GPT-4o, GPT-5
 * and the o-series. Claude's tokenizer is not published, so Anthropic input is counted with the same
 * encoding and scaled up by ANTHROPIC_FACTOR (Claude's tokenizer yields more tokens than o200k for the same
 * text; overestimating refuses a little early, which is the safe side). Every text string in the input
 * fields is counted; JSON keys and structure are covered by a fixed overhead per message or item; an image
 * or document counts as IMAGE_TOKENS (Anthropic caps an image near 1,600 tokens) rather than its base64.
 *
 * The reservation is input + output cap. When a request states no output cap (Codex sends none),
 * DEFAULT_OUTPUT_RESERVE is assumed.
 */
import { inputFields, type RequestShape } from "./request-shape.ts";

export const ANTHROPIC_FACTOR = 1.2;
export const PER_ITEM_OVERHEAD = 4;
export const IMAGE_TOKENS = 1_600;
export const DEFAULT_OUTPUT_RESERVE = 16_384;

type Counter = (text: string) => number;
let counter: Counter | undefined;

/** Loads the tokenizer once, on first use (its tables are a few MB). */
async function loadCounter(): Promise<Counter> {
  if (!counter) {
    const mod = await import("gpt-tokenizer/encoding/o200k_base");
    counter = (t) => mod.countTokens(t);
  }
  return counter;
}

const BINARY_TYPES = new Set(["image", "image_url", "input_image", "document", "input_file", "file"]);

/** Walks the input, counting text with `count`, each image/document as a flat cost, items as overhead. */
export function countInput(fields: unknown[], count: Counter): number {
  let total = 0;
  const walk = (v: unknown): void => {
    if (typeof v === "string") total += count(v);
    else if (Array.isArray(v)) for (const x of v) {
      total += PER_ITEM_OVERHEAD;
      walk(x);
    }
    else if (typeof v === "object" && v !== null) {
      const o = v as Record<string, unknown>;
      if (typeof o.type === "string" && BINARY_TYPES.has(o.type)) {
        total += IMAGE_TOKENS;
        return;
      }
      for (const [k, x] of Object.entries(o)) if (k !== "type" && k !== "role" && k !== "id") walk(x);
    } else if (typeof v === "number" || typeof v === "boolean") total += 1;
  };
  for (const f of fields) if (f !== undefined && f !== null) walk(f);
  return total;
}

export interface Reservation {
  input: number;
  output: number;
  total: number;
  /** How the input was counted. */
  method: "estimate" | "provider";
}

export async function estimateInput(shape: RequestShape): Promise<number> {
  const raw = countInput(inputFields(shape), await loadCounter());
  return shape.format === "anthropic-messages" ? Math.ceil(raw * ANTHROPIC_FACTOR) : raw;
}

export function reservationOf(input: number, shape: RequestShape, method: Reservation["method"]): Reservation {
  const output = shape.maxOutput ?? DEFAULT_OUTPUT_RESERVE;
  return { input, output, total: input + output, method };
}
