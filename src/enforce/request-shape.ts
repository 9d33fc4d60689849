/**
 * What the pre-flight gate needs to know about a request body: which API it speaks (metering's route
 * classification), how much output it may produce, and the parts that make up its input. Only generation
 * requests over HTTP have a shape; counting calls, WebSocket upgrades and everything else do not. Pure; a
 * body that is not JSON yields undefined.
 */
import { classifyRoute } from "../metering/route.ts";
import type { ApiFormat } from "../metering/types.ts";

export type RequestFormat = ApiFormat;

export interface RequestShape {
  format: RequestFormat;
  model?: string;
  /** max_tokens / max_completion_tokens / max_output_tokens, when the request states one. */
  maxOutput?: number;
  json: Record<string, unknown>;
}

/** The generation API a request speaks, or undefined (count endpoints, model lists, anything else). */
export function generationFormat(method: string, path: string): RequestFormat | undefined {
  const r = classifyRoute(method, path);
  return r && r.kind === "usage" && r.transport === "http" ? r.format : undefined;
}

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.floor(v) : undefined);

export function requestShape(method: string, path: string, body: Uint8Array): RequestShape | undefined {
  const format = generationFormat(method, path);
  if (!format) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return undefined;
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
  const o = json as Record<string, unknown>;
  const maxOutput =
    format === "anthropic-messages"
      ? num(o.max_tokens)
      : format === "openai-chat"
        ? num(o.max_completion_tokens) ?? num(o.max_tokens)
        : num(o.max_output_tokens);
  const shape: RequestShape = { format, json: o };
  if (typeof o.model === "string") shape.model = o.model;
  if (maxOutput !== undefined) shape.maxOutput = maxOutput;
  return shape;
}

/** The fields that make up a request's input, per format. */
export function inputFields(shape: RequestShape): unknown[] {
  const o = shape.json;
  switch (shape.format) {
    case "anthropic-messages":
      return [o.system, o.messages, o.tools, o.tool_choice];
    case "openai-chat":
      return [o.messages, o.tools, o.functions, o.response_format];
    case "openai-responses":
      return [o.instructions, o.input, o.tools, o.text];
  }
}
