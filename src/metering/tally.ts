/**
 * What a parser has learned so far about one exchange, and how that becomes a MeterResult. Every format
 * parser only fills a Tally; settling it is shared, so the rules for estimates live in one place:
 * - usage the provider reported is used as is and is never estimated;
 * - a stream that ended before its terminal usage (cut upstream, client abort, or no usage block at all)
 *   keeps what was reported and estimates the rest from what was delivered: output from the delivered text
 *   (about four characters per token) and input, if the provider never reported it, from the request size.
 * A stream that delivered nothing and reported nothing records zero, not an invented number, unless the
 * client abandoned a request the upstream already had: the upstream bills its input whatever comes back, so
 * hanging up before the first event (a long prompt's prefill) is charged the input estimate, not nothing.
 */
import type { ApiFormat, MeterResult, Usage } from "./types.ts";

/** Provider-reported token fields; undefined means "not reported (yet)". */
export interface ReportedUsage {
  input?: number;
  output?: number;
  cacheCreation?: number;
  cacheRead?: number;
  reasoning?: number;
}

/** One of Anthropic's `usage.iterations` that the top-level counts leave out (compaction, advisor, …). */
export interface ExtraIteration {
  type: string;
  /** The model it was billed at; undefined means the response's own model. */
  model?: string;
  usage: ReportedUsage;
}

export interface Tally {
  format: ApiFormat;
  reported: ReportedUsage;
  /** Billed sampling steps beyond the top-level counts (the latest snapshot; never summed across events). */
  extra?: ExtraIteration[];
  model?: string;
  requestId?: string;
  /** The terminal usage arrived (message_stop / usage chunk / response.completed…): nothing left to estimate. */
  final: boolean;
  /** An error event or error body was seen. */
  errored: boolean;
  /** Characters of generated content delivered so far (text, thinking, tool arguments). */
  deliveredChars: number;
}

export function newTally(format: ApiFormat): Tally {
  return { format, reported: {}, final: false, errored: false, deliveredChars: 0 };
}

/** About four characters per token: the usual rule of thumb for English text and code. */
export function estimateTokens(chars: number): number {
  return chars <= 0 ? 0 : Math.ceil(chars / 4);
}

/** A non-negative integer from an untrusted JSON value, or undefined. */
export function count(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.floor(v) : undefined;
}

/** Overwrites each field that has a number; fields left undefined keep their earlier value (never summed). */
export function overwrite(into: ReportedUsage, from: ReportedUsage): void {
  for (const k of Object.keys(from) as (keyof ReportedUsage)[]) {
    const v = from[k];
    if (v !== undefined) into[k] = v;
  }
}

export function totalFor(format: ApiFormat, u: Omit<Usage, "totalTokens">): number {
  return format === "anthropic-messages"
    ? u.inputTokens + u.outputTokens + u.cacheCreationInputTokens + u.cacheReadInputTokens
    : u.inputTokens + u.outputTokens;
}

export interface SettleOptions {
  /** The exchange ended early or carried no terminal usage: estimate what is missing. */
  incomplete: boolean;
  /** Size of the request body in bytes, for the input estimate. */
  requestBytes: number;
  /** The client abandoned a request the upstream had already received: its input is billed. */
  sent?: boolean;
}

export function settle(t: Tally, opts: SettleOptions): MeterResult {
  const r = t.reported;
  const estimating = opts.incomplete && !t.final && (t.deliveredChars > 0 || r.input !== undefined || r.output !== undefined || opts.sent === true);
  let input = r.input ?? 0;
  let output = r.output ?? 0;
  let estimated = false;
  if (estimating) {
    estimated = true;
    const outEstimate = estimateTokens(t.deliveredChars);
    if (outEstimate > output) output = outEstimate;
    if (r.input === undefined) input = estimateTokens(opts.requestBytes);
  }
  const parts = {
    inputTokens: input,
    outputTokens: output,
    cacheCreationInputTokens: r.cacheCreation ?? 0,
    cacheReadInputTokens: r.cacheRead ?? 0,
    reasoningTokens: r.reasoning ?? 0,
  };
  const result: MeterResult = {
    format: t.format,
    kind: "usage",
    usage: { ...parts, totalTokens: totalFor(t.format, parts) },
    estimated,
    errored: t.errored,
  };
  if (t.model !== undefined) result.model = t.model;
  if (t.requestId !== undefined) result.requestId = t.requestId;
  if (t.extra && t.extra.length > 0) addIterations(t.format, result, t.extra);
  return result;
}

function usageOf(format: ApiFormat, r: ReportedUsage): Usage {
  const parts = { inputTokens: r.input ?? 0, outputTokens: r.output ?? 0, cacheCreationInputTokens: r.cacheCreation ?? 0, cacheReadInputTokens: r.cacheRead ?? 0, reasoningTokens: r.reasoning ?? 0 };
  return { ...parts, totalTokens: totalFor(format, parts) };
}

function add(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheCreationInputTokens: a.cacheCreationInputTokens + b.cacheCreationInputTokens,
    cacheReadInputTokens: a.cacheReadInputTokens + b.cacheReadInputTokens,
    reasoningTokens: a.reasoningTokens + b.reasoningTokens,
    totalTokens: a.totalTokens + b.totalTokens,
  };
}

/**
 * The iteration rule (docs/ledger.md): each extra iteration is billed on top of the top-level counts. One
 * billed at the response's model (or naming none, like compaction) is added to the result's own usage; one
 * billed at another model is added to `otherModels` under that model, so each model's tokens stay on rows
 * of their own.
 */
function addIterations(format: ApiFormat, result: MeterResult, extra: ExtraIteration[]): void {
  const others = new Map<string, Usage>();
  for (const it of extra) {
    const u = usageOf(format, it.usage);
    if (it.model === undefined || it.model === result.model) result.usage = add(result.usage, u);
    else others.set(it.model, others.has(it.model) ? add(others.get(it.model)!, u) : u);
  }
  if (others.size > 0) result.otherModels = [...others].map(([model, usage]) => ({ model, usage }));
}

/** Every token an exchange billed, across its own model and any other (what budgets charge). */
export function billedTokens(r: MeterResult): number {
  return r.usage.totalTokens + (r.otherModels ?? []).reduce((n, o) => n + o.usage.totalTokens, 0);
}
