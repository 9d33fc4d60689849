/**
 * The PTY relay's title filter, byte by byte: title sequences are dropped wherever the chunks split them,
 * and every other byte (text, colours, other OSC sequences, UTF-8) comes through in order.
 */
import { expect, test } from "bun:test";
import { titleFilter } from "../../src/backends/title-filter.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function relay(input: string, splitEvery: number): string {
  const f = titleFilter();
  const bytes = enc(input);
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i += splitEvery) out.push(...f(bytes.slice(i, i + splitEvery)));
  return dec(Uint8Array.from(out));
}

test("titles are dropped however the stream is split; everything else passes in order", () => {
  const input = "é\x1b[31mred\x1b[0m\x1b]0;pi - work\x07after\x1b]2;t\x1b\\x\x1b]1;icon\x1b[1mB\x1b]10;?\x07\x1b]133;A\x07end\x1b]x";
  const want = "é\x1b[31mred\x1b[0mafterx\x1b[1mB\x1b]10;?\x07\x1b]133;A\x07end\x1b]x";
  for (const n of [1, 2, 3, 5, 7, 64]) expect(relay(input, n)).toBe(want);
});

test("an unterminated title is dropped up to its limit, then text flows again", () => {
  const out = relay(`\x1b]0;${"a".repeat(5000)}tail`, 1000);
  expect(out).toBe("a".repeat(5000 - 4097) + "tail");
});
