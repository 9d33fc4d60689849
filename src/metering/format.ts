/**
 * The shape every wire-format parser has, and the small JSON helpers they share. A parser never sees bytes:
 * the meter hands it whole SSE events (or WebSocket frames) and whole JSON bodies, and the parser only
 * updates a Tally. Untrusted JSON is read through `asObject`, so a missing or mistyped field is ignored
 * instead of throwing.
 */
import type { Tally } from "./tally.ts";
import type { ApiFormat } from "./types.ts";

export interface StreamEvent {
  /** The SSE `event:` field ("message" when absent; "message" for WebSocket frames too). */
  event: string;
  /** The event payload, parsed; undefined when it is not JSON (e.g. `[DONE]`). */
  json: Record<string, unknown> | undefined;
  /** The raw payload. */
  data: string;
}

export interface FormatParser {
  readonly format: ApiFormat;
  /** One streamed event. */
  event(t: Tally, ev: StreamEvent): void;
  /** A complete non-streamed JSON body (2xx or error). */
  body(t: Tally, json: Record<string, unknown>): void;
}

export type Json = Record<string, unknown>;

export function asObject(v: unknown): Json | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function asString(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** Parses JSON text; undefined when it is not a JSON object. Never throws. */
export function parseObject(text: string): Json | undefined {
  const t = text.trimStart();
  if (!t.startsWith("{")) return undefined;
  try {
    return asObject(JSON.parse(t));
  } catch {
    return undefined;
  }
}

/** Length of a string field, 0 when absent. */
export function chars(v: unknown): number {
  return typeof v === "string" ? v.length : 0;
}
