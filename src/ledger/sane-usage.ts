/**
 * Token counts an upstream reports are input from outside, and a budget sums them. An upstream that said
 * `input_tokens: 1e308` was stored as a REAL; two such rows summed to Infinity and `used` printed as null,
 * which no budget can compare against. So every count must be an integer from 0 to MAX_SANE_TOKENS (far
 * above any context window or output cap). A result that breaks that is not trusted at all: its row is
 * stored as an estimate from the request (the same local count pre-flight reserves: input plus the output
 * cap), marked estimated, and the anomaly goes to the run's audit log with the values the upstream sent.
 */
import { estimateInput, reservationOf } from "../enforce/estimate.ts";
import { requestShape } from "../enforce/request-shape.ts";
import type { MeterResult, Usage } from "../metering/types.ts";

/** More tokens than any model's context window plus output cap, by two orders of magnitude. */
export const MAX_SANE_TOKENS = 100_000_000;

const FIELDS: Array<[keyof Usage, string]> = [
  ["inputTokens", "input_tokens"],
  ["outputTokens", "output_tokens"],
  ["cacheCreationInputTokens", "cache_creation_input_tokens"],
  ["cacheReadInputTokens", "cache_read_input_tokens"],
  ["reasoningTokens", "reasoning_tokens"],
  ["totalTokens", "total"],
];

const sane = (v: unknown): boolean => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= MAX_SANE_TOKENS;

/** Every count in `u` that is not a sane token count, as "input_tokens=1e+308". */
export function usageAnomalies(u: Usage): string[] {
  return FIELDS.filter(([k]) => !sane(u[k])).map(([k, name]) => `${name}=${String(u[k])}`);
}

/** What the request itself says it could cost: its input counted locally plus its output cap. */
export async function requestEstimate(method: string, path: string, body: Uint8Array | undefined): Promise<Usage> {
  const shape = body ? requestShape(method, path, body) : undefined;
  const r = shape ? reservationOf(await estimateInput(shape), shape, "estimate") : { input: 0, output: 0, total: 0 };
  return { inputTokens: r.input, outputTokens: r.output, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, reasoningTokens: 0, totalTokens: r.total };
}

/**
 * `r` with every usage (its own and its other models') checked; an insane one is replaced by `estimate()`
 * and marked estimated. `anomalies` lists what the upstream sent (empty when all was sane).
 */
export async function saneResult(r: MeterResult, estimate: () => Promise<Usage>): Promise<{ result: MeterResult; anomalies: string[] }> {
  const anomalies = [...usageAnomalies(r.usage), ...(r.otherModels ?? []).flatMap((o) => usageAnomalies(o.usage).map((a) => `${o.model}: ${a}`))];
  if (anomalies.length === 0) return { result: r, anomalies };
  // None of the reported numbers is trusted once one is impossible: the whole exchange counts as the request's estimate.
  return { result: { ...r, usage: await estimate(), otherModels: [], estimated: true }, anomalies };
}
