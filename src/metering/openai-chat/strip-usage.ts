/**
 * Undoes, in the response, what bottle's `include_usage` injection added, so the client receives the stream an
 * upstream would have sent for its original request. The option adds two things: a final usage-only chunk
 * (`choices: []` plus `usage`), which is dropped whole, and a `"usage":null` member in every other chunk,
 * which is cut out of the chunk's JSON text. Some OpenAI-compatible upstreams put the usage object on the
 * finish chunk instead (one that still has choices): that chunk is re-serialised without its `usage`, so
 * the injected usage never reaches the client wherever it arrives. Everything else passes through byte for
 * byte: line endings, comments, keep-alives, `[DONE]`, and any bytes of chunks it does not recognise.
 *
 * Each SSE block is held until its dispatching blank line (an SSE client cannot act on an event before then
 * anyway), decided on its whole data, and released in one piece. `flush()` returns whatever a stream that
 * ended mid-block left held.
 */
import { asArray, asObject, parseObject } from "../format.ts";
import { concat, LineSplitter, type SseLine } from "../sse/lines.ts";
import { parseField } from "../sse/reader.ts";

/** `"usage":null` as a member of a JSON object, with the comma that joins it to a neighbour. */
const USAGE_NULL_AFTER = /,\s*"usage"\s*:\s*null(?=\s*[,}])/;
const USAGE_NULL_BEFORE = /"usage"\s*:\s*null\s*,\s*/;
const EMPTY_CHOICES = /"choices"\s*:\s*\[\s*\]/;

const encoder = new TextEncoder();

/** true for the chunk include_usage adds: no choices, a usage object. */
export function isUsageOnlyChunk(data: string): boolean {
  if (!EMPTY_CHOICES.test(data)) return false; // cheap pre-check: most chunks carry choices
  const j = parseObject(data);
  return !!j && Array.isArray(j.choices) && asArray(j.choices).length === 0 && !!asObject(j.usage);
}

/** A chunk that still has choices and carries a usage object: its JSON without `usage`, else undefined. */
export function withoutUsageObject(data: string): string | undefined {
  if (!data.includes('"usage"')) return undefined;
  const j = parseObject(data);
  if (!j || !asObject(j.usage)) return undefined;
  delete j.usage;
  return JSON.stringify(j);
}

/** Removes the `"usage":null` member the option adds to a data line, if it has one. */
export function removeUsageNull(line: string): string {
  if (!line.includes('"usage"')) return line;
  if (USAGE_NULL_AFTER.test(line)) return line.replace(USAGE_NULL_AFTER, "");
  return line.replace(USAGE_NULL_BEFORE, "");
}

export class UsageChunkStripper {
  private readonly lines = new LineSplitter();
  /** Bytes received and not yet released or dropped; buf[0] is at absolute offset bufStart. */
  private buf: Uint8Array = new Uint8Array(0);
  private bufStart = 0;
  private block: SseLine[] = [];

  /** Set after an internal failure: from then on bytes pass through untouched. */
  private failed = false;

  /** Returns the bytes the client should receive now (possibly empty). Never throws. */
  push(chunk: Uint8Array): Uint8Array {
    if (this.failed) return chunk;
    const unsent = this.buf.length === 0 ? chunk : concat(this.buf, chunk);
    this.buf = unsent;
    try {
      const out: Uint8Array[] = [];
      for (const line of this.lines.push(chunk)) {
        this.block.push(line);
        if (line.text === "") out.push(...this.releaseBlock());
      }
      const result = join(out).slice(); // detach from the caller's chunk buffer
      this.buf = this.buf.slice(); // likewise for what stays held
      return result;
    } catch {
      // Nothing of this push was returned yet, so handing back everything unsent loses no byte.
      this.failed = true;
      return unsent.slice();
    }
  }

  /** End of stream: everything still held, complete lines cleaned as usual. Never throws. */
  flush(): Uint8Array {
    if (this.failed) return new Uint8Array(0);
    try {
      return this.flushHeld();
    } catch {
      this.failed = true;
      return this.buf.slice();
    }
  }

  private flushHeld(): Uint8Array {
    const out: Uint8Array[] = [];
    const lastLine = this.lines.received;
    for (const line of this.lines.finish()) this.block.push(line);
    out.push(...this.releaseBlock());
    if (this.bufStart < lastLine) out.push(this.take(lastLine));
    return join(out);
  }

  private releaseBlock(): Uint8Array[] {
    const lines = this.block;
    this.block = [];
    if (lines.length === 0) return [];
    const data: string[] = [];
    for (const l of lines) {
      const f = parseField(l.text);
      if (f?.field === "data") data.push(f.value);
    }
    const end = lines[lines.length - 1]!.end;
    const whole = data.join("\n");
    if (data.length > 0 && isUsageOnlyChunk(whole)) {
      this.take(end); // dropped
      return [];
    }
    const rewritten = data.length > 0 ? withoutUsageObject(whole) : undefined;
    if (rewritten !== undefined) return this.rewriteBlock(lines, rewritten);
    return lines.map((l) => this.emitLine(l));
  }

  /** The block with its data lines replaced by one line holding `json`; other fields and endings kept. */
  private rewriteBlock(lines: SseLine[], json: string): Uint8Array[] {
    const out: Uint8Array[] = [];
    let wrote = false;
    for (const l of lines) {
      const raw = this.take(l.end);
      if (parseField(l.text)?.field !== "data") {
        out.push(raw);
        continue;
      }
      if (wrote) continue;
      wrote = true;
      let text = raw.length;
      while (text > 0 && (raw[text - 1] === 0x0a || raw[text - 1] === 0x0d)) text--;
      out.push(concat(encoder.encode(`data: ${json}`), raw.subarray(text)));
    }
    return out;
  }

  private emitLine(l: SseLine): Uint8Array {
    const raw = this.take(l.end);
    const f = parseField(l.text);
    if (f?.field !== "data") return raw;
    const cleaned = removeUsageNull(l.text);
    if (cleaned === l.text) return raw;
    let text = raw.length;
    while (text > 0 && (raw[text - 1] === 0x0a || raw[text - 1] === 0x0d)) text--;
    return concat(encoder.encode(cleaned), raw.subarray(text));
  }

  /** Removes and returns the buffered bytes up to absolute offset `end`. */
  private take(end: number): Uint8Array {
    const n = end - this.bufStart;
    const head = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    this.bufStart = end;
    return head;
  }
}

function join(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  return new Uint8Array(Buffer.concat(parts));
}
