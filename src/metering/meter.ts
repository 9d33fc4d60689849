/**
 * One Meter per metered HTTP exchange: it watches the response bytes the proxy relays and turns them into a
 * MeterResult. It decides JSON versus event-stream from the response headers, feeds whole SSE events or the
 * whole JSON body to the wire-format parser, and settles the tally when the exchange ends or breaks.
 *
 * It must never throw into the proxy: every entry point is guarded, and a failure inside a parser degrades to
 * an estimate from what was delivered (flagged `estimated`), never to an unmetered exchange.
 */
import { log } from "../log.ts";
import { parseObject, type FormatParser } from "./format.ts";
import { SseReader } from "./sse/reader.ts";
import { newTally, settle, type Tally } from "./tally.ts";
import type { MeterResult } from "./types.ts";

/** Bytes kept of a JSON body; a usage block never needs more, a larger body is estimated from its size. */
const MAX_JSON_BYTES = 64 * 1024 * 1024;

export interface MeterOptions {
  parser: FormatParser;
  kind: "usage" | "count";
  /** The client asked for a stream (request `stream: true`); used when the response has no content-type. */
  streamRequested: boolean;
}

type Mode = "sse" | "json" | "error";

/** The stream part of a meter: an SSE reader plus the format parser, guarded. */
export class ResponseMeter {
  readonly tally: Tally;
  requestBytes = 0;
  private mode: Mode | undefined;
  private status = 200;
  private reader = new SseReader();
  private json: Uint8Array[] = [];
  private jsonBytes = 0;
  private headerRequestId: string | undefined;
  private done: MeterResult | undefined;
  private broken = false;
  /** The request reached the upstream before the client abandoned it (see settle's `sent`). */
  private sent = false;

  constructor(private readonly opts: MeterOptions) {
    this.tally = newTally(opts.parser.format);
  }

  start(status: number, headers: Headers): void {
    this.status = status;
    this.headerRequestId = headers.get("request-id") ?? headers.get("x-request-id") ?? undefined;
    const type = (headers.get("content-type") ?? "").toLowerCase();
    if (status < 200 || status >= 300) this.mode = "error";
    else if (type.includes("text/event-stream")) this.mode = "sse";
    else if (type.includes("json")) this.mode = "json";
    else this.mode = this.opts.streamRequested ? "sse" : "json";
  }

  push(chunk: Uint8Array): void {
    if (this.done || chunk.length === 0) return;
    if (this.mode === undefined) this.start(200, new Headers());
    if (this.mode === "sse") {
      if (this.broken) this.tally.deliveredChars += chunk.length;
      else this.guard(() => this.feed(this.reader.push(chunk)));
    } else {
      this.jsonBytes += chunk.length;
      if (this.jsonBytes <= MAX_JSON_BYTES) this.json.push(chunk);
    }
  }

  /** The response completed normally. */
  end(): MeterResult {
    return (this.done ??= this.finish(false));
  }

  /** The exchange was cut: settle what was seen and estimate the rest. */
  abort(sent = false): MeterResult {
    if (sent) this.sent = true;
    return (this.done ??= this.finish(true));
  }

  /** What is known so far, without ending anything (the stream keeps going). */
  snapshot(): MeterResult {
    return this.done ?? this.result(true);
  }

  private finish(interrupted: boolean): MeterResult {
    if (this.mode === "sse" && !this.broken) this.guard(() => this.feed(this.reader.finish()));
    if (this.mode === "json" || this.mode === "error") this.guard(() => this.parseJson());
    return this.result(interrupted);
  }

  private result(interrupted: boolean): MeterResult {
    const t = this.tally;
    if (t.requestId === undefined && this.headerRequestId) t.requestId = this.headerRequestId;
    if (this.mode === "error" || this.opts.kind === "count") {
      const { extra: _billedSteps, ...bare } = t;
      const r = settle({ ...bare, reported: {}, deliveredChars: 0 }, { incomplete: false, requestBytes: 0 });
      r.kind = this.opts.kind;
      r.errored = this.mode === "error" ? this.status >= 400 : t.errored;
      return r;
    }
    return settle(t, { incomplete: interrupted || !t.final, requestBytes: this.requestBytes, sent: this.sent });
  }

  private feed(events: { event: string; data: string }[]): void {
    for (const e of events) {
      this.opts.parser.event(this.tally, { event: e.event, data: e.data, json: parseObject(e.data) });
    }
  }

  private parseJson(): void {
    if (this.json.length === 0) return;
    const whole = this.jsonBytes <= MAX_JSON_BYTES ? Buffer.concat(this.json) : undefined;
    const j = whole ? parseObject(new TextDecoder().decode(whole)) : undefined;
    if (j) this.opts.parser.body(this.tally, j);
    else if (this.mode === "json") this.tally.deliveredChars = Math.max(this.tally.deliveredChars, this.jsonBytes);
    this.json = [];
  }

  private guard(fn: () => void): void {
    if (this.broken) return;
    try {
      fn();
    } catch (err) {
      // A parser bug must not cost the proxy its stream; from here on the body is estimated from its size.
      this.broken = true;
      log.debug(`metering: parser failed, estimating instead: ${String(err)}`);
    }
  }
}
