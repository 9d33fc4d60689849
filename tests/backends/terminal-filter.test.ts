/**
 * The terminal filter, byte by byte, in both modes: what is dropped is dropped wherever the chunks split
 * it, and every other byte (text, colours, ordinary controls, UTF-8) comes through in order.
 */
import { expect, test } from "bun:test";
import { type FilterMode, terminalFilter } from "../../src/backends/terminal-filter.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function relay(mode: FilterMode, input: string | Uint8Array, splitEvery: number): string {
  const f = terminalFilter(mode);
  const bytes = typeof input === "string" ? enc(input) : input;
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i += splitEvery) out.push(...f(bytes.slice(i, i + splitEvery)));
  return dec(Uint8Array.from(out));
}

const SPLITS = [1, 2, 3, 5, 7, 64, 4096];

test("interactive: titles are dropped however the stream is split; everything else passes in order", () => {
  const input = "é\x1b[31mred\x1b[0m\x1b]0;pi - work\x07after\x1b]2;t\x1b\\x\x1b]1;icon\x1b[1mB\x1b]10;?\x07\x1b]133;A\x07end\x1b]x";
  const want = "é\x1b[31mred\x1b[0mafterx\x1b[1mB\x1b]10;?\x07\x1b]133;A\x07end\x1b]x";
  for (const n of SPLITS) expect(relay("interactive", input, n)).toBe(want);
});

test("interactive: clipboard writes, tmux passthrough, title reports and window operations are dropped; a TUI's own sequences pass", () => {
  const tui = "\x1b[?1049h\x1b[?2004h\x1b[?25l\x1b[2J\x1b[H\x1b[38;2;1;2;3mX\x1b[6n\x1b[c\x1b[14t\x1b[22;0t\x1b[>4;1m\x1bP$qm\x1b\\\x1b]8;;https://e.x\x1b\\L\x1b]8;;\x1b\\\x1b_Gi=1\x1b\\\x1b=\x1b(B";
  const attack = "\x1b]52;c;ZWNobyBoaQ==\x07\x1b]52;c;ZWNobyBoaQ==\x1b\\\x1b[21t\x1b[20t\x1b[8;1;1t\x1b[3;0;0t\x1b[1t\x1b[30t\x1bPtmux;\x1b\x1b]52;c;eA==\x07\x1b\\\x1bkname\x1b\\";
  for (const n of SPLITS) expect(relay("interactive", `${tui}${attack}Z`, n)).toBe(`${tui}Z`);
  // The number is read whole, as terminals do: leading zeros do not hide OSC 52 or a title.
  for (const n of SPLITS) expect(relay("interactive", "a\x1b]00000000052;c;eA==\x07b\x1b]052;c;eA==\x07c\x1b]0000000000002;t\x07d", n)).toBe("abcd");
});

test("headless: text, SGR colours and ordinary cursor and erase controls pass", () => {
  const ok = "plain é ✓ 🎉\r\n\t\x07\b\x1b[1;31mred\x1b[0m\x1b[38;5;208mo\x1b[m\x1b[2K\x1b[1G\x1b[3A\x1b[J\x1b[5;1H\x1b[?25l\x1b[?25h\x1b7\x1b8\x1bM\x1b[s\x1b[u";
  for (const n of SPLITS) expect(relay("headless", ok, n)).toBe(ok);
});

test("headless: every string, report request, mode, window and charset operation is dropped, text around them kept", () => {
  const attacks = [
    "\x1b]52;c;ZWNobyBoaQ==\x07", // clipboard
    "\x1b]0;title\x1b\\",
    "\x1b]2;title\x07",
    "\x1b]4;1;?\x07\x1b]10;?\x07\x1b]11;?\x1b\\", // colour reports
    "\x1b]8;;https://e.x\x07", // hyperlinks, too: all OSC
    "\x1bP$qm\x1b\\", // DECRQSS
    "\x1bPtmux;\x1b\x1b]52;c;eA==\x07\x1b\\",
    "\x1b_apc\x1b\\\x1b^pm\x1b\\\x1bXsos\x1b\\",
    "\x1b[21t\x1b[20t\x1b[8;1;1t\x1b[14t", // title report, window operations
    "\x1b[6n\x1b[c\x1b[>c\x1b[=c\x1b[5n\x1b[?6n\x1b[2$p\x1b[x", // reports
    "\x1b[1;2r\x1b[?1049h\x1b[?1000h\x1b[?2004h\x1b[4h\x1b[?1h", // scroll region, alt screen, mouse, paste, insert, cursor keys
    "\x1b=\x1b(0\x1b)0\x1b#8\x1bc\x1bkname\x1b\\", // keypad, charsets, DECALN, RIS, screen title
    "\x0e\x0f\x05\x00", // SO/SI, ENQ (answerback), NUL
  ];
  for (const n of SPLITS) {
    for (const a of attacks) expect(relay("headless", `<${a}>`, n)).toBe("<>");
  }
  // UTF-8 encoded C1 (U+009B CSI, U+009D OSC) is dropped; its neighbours in U+0080–U+00FF are not.
  const c1 = Uint8Array.from([0x3c, 0xc2, 0x9b, 0x36, 0x6e, 0xc2, 0xa0, 0xc3, 0xa9, 0xc2, 0x9d, 0x3e]);
  for (const n of SPLITS) expect(relay("headless", c1, n)).toBe("<6n\u00a0é>");
  // 8-bit C1 (a terminal not in UTF-8 mode reads 0x9B as CSI): a stray byte in 0x80–0x9F is dropped.
  expect(relay("headless", Uint8Array.from([0x3c, 0x9b, 0x36, 0x6e, 0x9d, 0x3e]), 1)).toBe("<6n>");
});

test("headless: a C0 control inside a CSI is done there, and a CSI cut short by ESC, CAN or a long run is dropped", () => {
  // xterm executes the LF inside `ESC [ 2 LF 1 t` and then reads the CSI on: 21 t, a title report.
  for (const n of SPLITS) expect(relay("headless", "a\x1b[2\n1tb", n)).toBe("a\nb");
  for (const n of SPLITS) expect(relay("headless", "a\x1b[6\x1b[31mb\x1b[2\x18nc", n)).toBe("a\x1b[31mbnc");
  expect(relay("headless", `a\x1b[${"1;".repeat(200)}mb`, 7)).toBe("ab");
});

test("a sequence begun on one stream and finished on another never reaches the terminal whole", () => {
  const out = terminalFilter("headless");
  const err = terminalFilter("headless");
  const got = dec(Uint8Array.from([...out(enc("x\x1b]52;c;")), ...err(enc("ZWNobyBoaQ==\x07y"))]));
  expect(got).toBe("xZWNobyBoaQ==\x07y");
});

test("an unterminated string is dropped up to its limit, then text flows again", () => {
  const out = relay("interactive", `\x1b]0;${"a".repeat(70_000)}tail`, 1000);
  expect(out).toBe("a".repeat(70_000 - 65_536) + "tail"); // the `;` counts, the `0` was held
  expect(relay("headless", `\x1bP${"a".repeat(70_000)}tail`, 999)).toBe("a".repeat(70_000 - 65_537) + "tail");
});
