/**
 * What the pre-flight gate needs to know about a request body: which API it speaks, how much output it may
 * produce, and the parts that make up its input. Anthropic Messages, OpenAI Chat Completions and OpenAI
 * Responses are told apart by path. Pure; a body that is not JSON yields undefined.
 */

export type RequestFormat = "anthropic-messages" | "openai-chat" | "openai-responses";

export interface RequestShape {
  format: RequestFormat;
  model?: string;
  /** max_tokens / max_completion_tokens / max_output_tokens, when the request states one. */
  maxOutput?: number;
  json: Record<string, unknown>;
}

/** The generation endpoint a path names, or undefined (count endpoints, model lists, anything else). */
export function formatForPath(path: string): RequestFormat | undefined {
  const p = (path.split("?")[0] ?? path).replace(/\/+$/, "");
  if (/\/messages$/.test(p)) return "anthropic-messages";
  if (/\/chat\/completions$/.test(p)) return "openai-chat";
  if (/\/responses$/.test(p)) return "openai-responses";
  return undefined;
}

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.floor(v) : undefined);

export function requestShape(path: string, body: Uint8Array): RequestShape | undefined {
  const format = formatForPath(path);
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
