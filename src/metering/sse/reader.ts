/**
 * An incremental Server-Sent Events reader that never throws. Bytes go in, whole events come out, following
 * the WHATWG event-stream rules: `field: value` lines (one optional space after the colon), comment lines that
 * start with `:`, several `data:` lines joined by "\n", `event:` and `id:` fields, and a blank line that
 * dispatches. A block with no data is not dispatched. Whether the data is JSON (or `[DONE]`) is the caller's
 * business, so invalid JSON can never break the reader.
 */
import { LineSplitter, type SseLine } from "./lines.ts";

export interface SseEvent {
  /** The `event:` field, or "message" when absent. */
  event: string;
  /** The `data:` lines joined with "\n". */
  data: string;
  /** The last `id:` seen on the stream, if any. */
  id?: string;
  /** Absolute byte offset where the event's block began. */
  start: number;
  /** Absolute byte offset just past the blank line that dispatched it. */
  end: number;
}

/** Splits one line into field and value, or undefined for a comment. */
export function parseField(text: string): { field: string; value: string } | undefined {
  if (text.startsWith(":")) return undefined;
  const colon = text.indexOf(":");
  if (colon < 0) return { field: text, value: "" };
  let value = text.slice(colon + 1);
  if (value.startsWith(" ")) value = value.slice(1);
  return { field: text.slice(0, colon), value };
}

/** Turns lines into events; kept separate so a byte filter can watch the same lines. */
export class EventAssembler {
  private data: string[] = [];
  private type = "";
  private lastId: string | undefined;
  private blockStart = 0;
  private blockEmpty = true;

  line(line: SseLine): SseEvent | undefined {
    if (line.text === "") {
      const ev = this.dispatch(line.end);
      this.blockStart = line.end;
      this.blockEmpty = true;
      return ev;
    }
    if (this.blockEmpty) {
      this.blockStart = line.start;
      this.blockEmpty = false;
    }
    const f = parseField(line.text);
    if (!f) return undefined;
    if (f.field === "data") this.data.push(f.value);
    else if (f.field === "event") this.type = f.value;
    else if (f.field === "id" && !f.value.includes("\0")) this.lastId = f.value;
    return undefined;
  }

  /** End of stream: per the spec an undispatched block is dropped, but a complete `data:` line is kept. */
  finish(end: number): SseEvent | undefined {
    return this.dispatch(end);
  }

  private dispatch(end: number): SseEvent | undefined {
    const ev: SseEvent | undefined =
      this.data.length === 0
        ? undefined
        : { event: this.type || "message", data: this.data.join("\n"), start: this.blockStart, end };
    if (ev && this.lastId !== undefined) ev.id = this.lastId;
    this.data = [];
    this.type = "";
    return ev;
  }
}

/** Bytes in, events out. */
export class SseReader {
  private readonly lines = new LineSplitter();
  private readonly events = new EventAssembler();

  push(chunk: Uint8Array): SseEvent[] {
    return this.collect(this.lines.push(chunk));
  }

  /** Flushes a last event that lacked its blank line (a stream cut just after a complete `data:` line). */
  finish(): SseEvent[] {
    const out = this.collect(this.lines.finish());
    const last = this.events.finish(this.lines.received);
    if (last) out.push(last);
    return out;
  }

  private collect(lines: SseLine[]): SseEvent[] {
    const out: SseEvent[] = [];
    for (const l of lines) {
      const ev = this.events.line(l);
      if (ev) out.push(ev);
    }
    return out;
  }
}
