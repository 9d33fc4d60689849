/**
 * Responses API over a WebSocket (Codex tries `wss://…/v1/responses` first). One connection carries many
 * responses: the client sends a `response.create` (or `response.append`) frame, and the server answers with
 * the same JSON events an SSE stream would carry, one per message frame, ending in `response.completed`,
 * `response.incomplete`, `response.failed` or `error`. So a socket meter yields one MeterResult per response as each one ends, and
 * on close settles a response still in flight as interrupted (estimated).
 */
import { asString, parseObject } from "../format.ts";
import { newTally, settle, type Tally } from "../tally.ts";
import type { MeterResult } from "../types.ts";
import { responsesParser, TERMINAL_EVENTS } from "./parser.ts";

const decoder = new TextDecoder();
/** Client frames that start a response (`response.append` continues the previous one with more input). */
const REQUEST_FRAMES = new Set(["response.create", "response.append"]);

export class ResponsesSocketMeter {
  private current: Tally | undefined;
  private requestBytes = 0;

  /** One relayed message; returns the results of responses that ended with it. */
  message(direction: "up" | "down", data: string | Uint8Array): MeterResult[] {
    const text = typeof data === "string" ? data : decoder.decode(data);
    const j = parseObject(text);
    const type = asString(j?.type) ?? "";
    if (direction === "up") {
      if (!REQUEST_FRAMES.has(type)) return [];
      const out = this.close();
      this.current = newTally("openai-responses");
      this.requestBytes = text.length;
      return out;
    }
    if (!j) return [];
    // A new response id while another is unfinished: the earlier one was cut off.
    const out = type === "response.created" && this.current?.requestId ? this.close() : [];
    const t = (this.current ??= newTally("openai-responses"));
    responsesParser.event(t, { event: "message", data: text, json: j });
    if (!TERMINAL_EVENTS.has(type) && type !== "error") return out;
    this.current = undefined;
    out.push(settle(t, { incomplete: !t.final, requestBytes: this.requestBytes }));
    return out;
  }

  /** The socket closed: a response still in flight is settled as interrupted. */
  close(): MeterResult[] {
    const t = this.current;
    this.current = undefined;
    if (!t) return [];
    return [settle(t, { incomplete: true, requestBytes: this.requestBytes })];
  }
}
