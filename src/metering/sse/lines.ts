/**
 * Splits a byte stream into SSE lines, keeping each line's absolute byte range. It works on bytes, not text:
 * CR and LF never occur inside a multi-byte UTF-8 sequence, so a chunk boundary anywhere (even mid-character)
 * cannot corrupt a line, and each complete line is decoded on its own. Byte ranges let the OpenAI Chat filter
 * drop or rewrite exact lines without re-serialising anything else. A CR at the very end of the buffered bytes
 * is held back until the next byte shows whether it starts a CRLF, so a terminator is never split in two.
 */

export interface SseLine {
  /** The line's text without its terminator. */
  text: string;
  /** Absolute offset of the line's first byte. */
  start: number;
  /** Absolute offset just past the line's terminator. */
  end: number;
}

const CR = 0x0d;
const LF = 0x0a;
/** A line longer than this is dropped rather than buffered without bound (it cannot be a usage event). */
export const MAX_LINE_BYTES = 32 * 1024 * 1024;

/** The shared empty buffer: never written to. */
const NOTHING = new Uint8Array(0);

const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

export class LineSplitter {
  private pending: Uint8Array = NOTHING;
  /** Absolute offset of pending[0]. */
  private pendingStart = 0;
  /** Set when a line overflowed MAX_LINE_BYTES: skip bytes until its terminator. */
  private discarding = false;
  private sawFirstLine = false;

  /** Total bytes received so far. */
  get received(): number {
    return this.pendingStart + this.pending.length;
  }

  /** Absolute offset of the first byte not yet part of a complete line. */
  get lineStart(): number {
    return this.pendingStart;
  }

  push(chunk: Uint8Array): SseLine[] {
    if (chunk.length === 0) return [];
    this.pending = this.pending.length === 0 ? chunk : concat(this.pending, chunk);
    return this.scan(false);
  }

  /** End of stream: a held CR terminates its line; an unterminated last line is returned as a line too. */
  finish(): SseLine[] {
    const lines = this.scan(true);
    if (this.pending.length > 0 && !this.discarding) {
      lines.push(this.line(0, this.pending.length, this.pending.length));
    }
    this.pendingStart += this.pending.length;
    this.pending = NOTHING;
    return lines;
  }

  private scan(atEnd: boolean): SseLine[] {
    const buf = this.pending;
    const lines: SseLine[] = [];
    let from = 0;
    // Native indexOf finds terminators far faster than a byte loop; CR is rare, so its position is cached.
    let nextCr = buf.indexOf(CR);
    for (;;) {
      if (nextCr !== -1 && nextCr < from) nextCr = buf.indexOf(CR, from);
      const nextLf = buf.indexOf(LF, from);
      const i = nextCr === -1 ? nextLf : nextLf === -1 ? nextCr : Math.min(nextCr, nextLf);
      if (i === -1) break;
      let termEnd = i + 1;
      if (i === nextCr) {
        if (i + 1 === buf.length && !atEnd) break; // wait: CR may be the first half of CRLF
        if (buf[i + 1] === LF) termEnd = i + 2;
      }
      if (this.discarding) this.discarding = false;
      else lines.push(this.line(from, i, termEnd));
      from = termEnd;
    }
    // Copy what is kept: the caller may reuse its chunk buffer once push returns. A chunk that ends on a line
    // boundary (the usual SSE case) keeps nothing, so it costs no allocation.
    this.pending = from === buf.length ? NOTHING : buf.slice(from);
    this.pendingStart += from;
    if (this.pending.length > MAX_LINE_BYTES) {
      this.pendingStart += this.pending.length;
      this.pending = NOTHING;
      this.discarding = true;
    }
    return lines;
  }

  private line(from: number, textEnd: number, termEnd: number): SseLine {
    let text = decoder.decode(this.pending.subarray(from, textEnd));
    if (!this.sawFirstLine) {
      this.sawFirstLine = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    return { text, start: this.pendingStart + from, end: this.pendingStart + termEnd };
  }
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
