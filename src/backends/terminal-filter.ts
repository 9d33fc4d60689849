/**
 * What an agent writes reaches the user's real terminal, and a terminal obeys more than text: OSC 52
 * sets the clipboard (the user later pastes the agent's command), a title set followed by a title report
 * (CSI 21 t) or any other report request (CSI 6 n, DA, DECRQSS in a DCS, OSC 4/10/11 colour queries)
 * makes the terminal type bytes into whatever reads it next, which after bottle exits is the user's
 * shell; window and font operations, keypad/mouse modes and charset shifts outlive the run. So the
 * bottle's output is filtered on its way to a terminal, in one of two modes:
 *
 * - `interactive` (a full TUI on its own pseudo-terminal, relayed): everything a TUI needs passes. Dropped
 *   are the agent's title sequences (OSC 0/1/2 and screen's `ESC k`: the title is the run's label, see
 *   launch/terminal-title.ts), OSC 52 clipboard writes, tmux passthrough (`ESC P tmux; …`, which would
 *   carry any of these past tmux), title reports (CSI 20/21 t) and window operations (CSI 1–10 t, CSI ≥24 t).
 * - `headless` (the agent's stdout/stderr on the user's terminal): only text, SGR, ordinary cursor and
 *   erase controls pass. Every OSC, DCS, APC, PM and SOS string, every other CSI (reports, modes, scroll
 *   regions, window operations), every other escape, the C0 controls other than BEL BS HT LF VT FF CR, and
 *   C1 controls (8-bit or UTF-8 encoded) are dropped.
 *
 * A sequence is emitted only once it is complete and judged, so one split across chunks (or begun on one
 * stream and ended on another) never reaches the terminal half-made; an over-long one is dropped as far as
 * it goes. Pure state machine, one pass per byte, no allocation per byte.
 */

export type FilterMode = "interactive" | "headless";

const ESC = 0x1b;
const BEL = 0x07;
const CAN = 0x18;
const SUB = 0x1a;
/** Longest CSI or OSC number prefix held for judging; longer ones are dropped to their end. */
const MAX_HELD = 256;
/** Longest string (OSC/DCS/…) dropped before text flows again (the terminal never saw its introducer). */
const MAX_STRING = 1 << 16;

const enum S {
  Text,
  Esc, // after ESC
  EscInter, // ESC + intermediates, waiting for the final byte
  Csi, // collecting a CSI
  CsiDrop, // an over-long CSI: dropped up to its final byte
  OscNum, // ESC ] digits…, held until the number is known (interactive)
  DcsHead, // ESC P, holding the first bytes to spot tmux passthrough (interactive)
  StrPass, // inside a string that is relayed
  StrPassEsc,
  StrDrop, // inside a string that is dropped
  StrDropEsc,
  C2, // headless: after 0xC2, which with 0x80–0x9F encodes a C1 control
}

/** C0 controls a headless agent may write: BEL BS HT LF VT FF CR. */
function plainC0(b: number): boolean {
  return b === BEL || (b >= 0x08 && b <= 0x0d);
}

/** CSI finals headless output keeps (no private marker, no intermediates): SGR, cursor moves, erase, edit. */
const HEADLESS_CSI = new Set("mABCDEFGHfdea`JKXP@LMSTsu".split("").map((c) => c.charCodeAt(0)));

function firstParam(seq: number[], from: number, to: number): number {
  let n = 0;
  let any = false;
  for (let i = from; i < to; i++) {
    const b = seq[i]!;
    if (b < 0x30 || b > 0x39) break;
    n = n * 10 + (b - 0x30);
    any = true;
  }
  return any ? n : 0;
}

/** Judges a complete CSI, held as ESC [ params… intermediates… final. */
function keepCsi(mode: FilterMode, seq: number[]): boolean {
  const final = seq[seq.length - 1]!;
  const marker = seq.length > 3 && seq[2]! >= 0x3c && seq[2]! <= 0x3f ? seq[2]! : 0;
  let inter = false;
  for (let i = 2; i < seq.length - 1; i++) if (seq[i]! < 0x30) inter = true;
  if (mode === "interactive") {
    if (final !== 0x74 /* t */ || marker || inter) return true;
    const p = firstParam(seq, 2, seq.length - 1);
    return !((p >= 1 && p <= 10) || p === 20 || p === 21 || p >= 24);
  }
  if (inter) return false;
  if (marker === 0x3f /* ? */) {
    // Cursor show/hide only: DECTCEM, `CSI ? 25 h` / `l`.
    return (final === 0x68 || final === 0x6c) && seq.length === 6 && seq[3] === 0x32 && seq[4] === 0x35;
  }
  if (marker) return false;
  if ((final === 0x73 || final === 0x75) && seq.length !== 3) return false; // s/u with params are other things
  return HEADLESS_CSI.has(final);
}

/** Escapes other than CSI and strings that headless output keeps: save/restore cursor, index, reverse index, next line. */
function keepEscHeadless(b: number): boolean {
  return b === 0x37 || b === 0x38 || b === 0x44 || b === 0x45 || b === 0x4d;
}

export function terminalFilter(mode: FilterMode): (chunk: Uint8Array) => Uint8Array {
  const headless = mode === "headless";
  let state = S.Text;
  let held: number[] = [];
  let dropped = 0;
  let oscBel = false; // the string being passed or dropped may end with BEL (OSC)
  let cont = 0; // headless: UTF-8 continuation bytes still expected
  return (chunk) => {
    const out = new Uint8Array(chunk.length + held.length + 1);
    let n = 0;
    const emit = (bytes: number[]) => {
      for (const x of bytes) out[n++] = x;
    };
    // A C0 control met inside a sequence is executed by the terminal there and then; it passes or not as in text.
    const control = (b: number) => {
      if (!headless || plainC0(b)) out[n++] = b;
    };
    const startString = (keep: boolean, bel: boolean) => {
      oscBel = bel;
      if (keep) emit(held);
      held = [];
      dropped = 0;
      state = keep ? S.StrPass : S.StrDrop;
    };
    for (let i = 0; i < chunk.length; i++) {
      if (state === S.Text) {
        // Fast path: a run of bytes that pass as they are (interactive: anything but ESC; headless:
        // printable ASCII) is copied in one go.
        let j = i;
        if (!headless) {
          j = chunk.indexOf(ESC, i);
          if (j < 0) j = chunk.length;
        } else {
          while (j < chunk.length && chunk[j]! >= 0x20 && chunk[j]! < 0x7f) j++;
          if (j > i) cont = 0;
        }
        if (j > i) {
          out.set(chunk.subarray(i, j), n);
          n += j - i;
          i = j;
          if (i === chunk.length) break;
        }
      }
      const b = chunk[i]!;
      switch (state) {
        case S.Text:
          if (b === ESC) {
            state = S.Esc;
            held = [b];
            cont = 0;
          } else if (!headless) out[n++] = b;
          else if (b < 0x20 || b === 0x7f) {
            cont = 0;
            if (plainC0(b)) out[n++] = b;
          } else if (b < 0x80) {
            cont = 0;
            out[n++] = b;
          } else if (b < 0xc0) {
            // A continuation byte; a stray one in 0x80–0x9F is an 8-bit C1 control.
            if (cont > 0) {
              cont--;
              out[n++] = b;
            } else if (b >= 0xa0) out[n++] = b;
          } else if (b === 0xc2) {
            state = S.C2;
            cont = 0;
          } else {
            cont = b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : 1;
            out[n++] = b;
          }
          break;
        case S.C2:
          state = S.Text;
          if (b >= 0x80 && b <= 0x9f) break; // U+0080–U+009F: a C1 control, dropped
          out[n++] = 0xc2;
          i--;
          break;
        case S.Esc:
          if (b === 0x5b /* [ */) {
            held.push(b);
            state = S.Csi;
          } else if (b === 0x5d /* ] */) {
            if (headless) startString(false, true);
            else {
              held.push(b);
              state = S.OscNum;
            }
          } else if (b === 0x50 /* P */) {
            if (headless) startString(false, false);
            else {
              held.push(b);
              state = S.DcsHead;
            }
          } else if (b === 0x5f /* _ */ || b === 0x5e /* ^ */ || b === 0x58 /* X */) {
            held.push(b);
            startString(!headless, false);
          } else if (b === 0x6b /* k: screen's title string */) {
            startString(false, false);
          } else if (b === ESC) {
            held = [b]; // ESC ESC: the first one is dropped
          } else if (b === CAN || b === SUB) {
            held = [];
            state = S.Text;
          } else if (b < 0x20) {
            control(b);
          } else if (b < 0x30) {
            held.push(b);
            state = S.EscInter;
          } else {
            held.push(b);
            if (!headless || keepEscHeadless(b)) emit(held);
            held = [];
            state = S.Text;
          }
          break;
        case S.EscInter:
          if (b === ESC) held = [b], (state = S.Esc);
          else if (b === CAN || b === SUB) (held = []), (state = S.Text);
          else if (b < 0x20) control(b);
          else if (b < 0x30 && held.length < MAX_HELD) held.push(b);
          else {
            held.push(b);
            if (!headless && b < 0x7f) emit(held);
            held = [];
            state = S.Text;
            if (b >= 0x7f) i--;
          }
          break;
        case S.Csi:
        case S.CsiDrop:
          if (b >= 0x40 && b <= 0x7e) {
            held.push(b);
            if (state === S.Csi && keepCsi(mode, held)) emit(held);
            held = [];
            state = S.Text;
          } else if (b >= 0x20 && b <= 0x3f) {
            if (state === S.Csi) {
              held.push(b);
              if (held.length > MAX_HELD) state = S.CsiDrop;
            }
          } else if (b === ESC) {
            held = [b];
            state = S.Esc;
          } else if (b === CAN || b === SUB) {
            held = [];
            state = S.Text;
          } else if (b < 0x20) control(b);
          else if (b >= 0x80) {
            held = [];
            state = S.Text;
            i--;
          }
          // DEL inside a CSI is ignored, by terminals and here
          break;
        case S.OscNum:
          if (b >= 0x30 && b <= 0x39) {
            held.push(b);
            // No OSC has a ten-digit number; judging a prefix of one could pass `ESC ] 00000000052`.
            if (held.length > 12) startString(false, true);
          } else {
            const num = held.length > 2 ? firstParam(held, 2, held.length) : -1;
            const drop = num === 0 || num === 1 || num === 2 || num === 52;
            startString(!drop, true);
            i--;
          }
          break;
        case S.DcsHead: {
          held.push(b);
          const head = "tmux;";
          const k = held.length - 3;
          if (b === ESC || b === BEL || b === CAN || b === SUB || b !== head.charCodeAt(k)) {
            held.pop();
            startString(true, false);
            i--;
          } else if (k === head.length - 1) startString(false, false);
          break;
        }
        case S.StrPass:
          if (b === ESC) state = S.StrPassEsc;
          else {
            out[n++] = b;
            if ((b === BEL && oscBel) || b === CAN || b === SUB) state = S.Text;
          }
          break;
        case S.StrPassEsc:
          if (b === 0x5c /* \ */) {
            out[n++] = ESC;
            out[n++] = b;
            state = S.Text;
          } else {
            // ESC that is not the string terminator: the string ended, and this ESC starts something new.
            state = S.Esc;
            held = [ESC];
            i--;
          }
          break;
        case S.StrDrop:
          if (b === ESC) state = S.StrDropEsc;
          else if ((b === BEL && oscBel) || b === CAN || b === SUB || ++dropped > MAX_STRING) state = S.Text;
          break;
        case S.StrDropEsc:
          // ESC ESC is an escaped ESC inside the string (tmux passthrough doubles them): dropped with it.
          if (b === 0x5c) state = S.Text;
          else if (b === ESC) state = S.StrDrop;
          else {
            state = S.Esc;
            held = [ESC];
            i--;
          }
          break;
      }
    }
    return n === out.length ? out : out.subarray(0, n);
  };
}
