/**
 * Prints the failures recorded in a test run's JUnit report, after the run. A long suite's console output
 * scrolls the failing test's message (the screen a terminal test saw, the assertion's diff) far above the
 * summary, and a CI log is often read from its tail; this puts each failure's name, file and message at
 * the end, where the reader already is.
 *
 * Usage: bun scripts/test-failures.ts <junit.xml> [max lines per failure]
 */
import { existsSync, readFileSync } from "node:fs";

const [file, maxArg] = process.argv.slice(2);
if (!file) {
  console.error("usage: bun scripts/test-failures.ts <junit.xml> [max lines per failure]");
  process.exit(2);
}
if (!existsSync(file)) {
  console.error(`test-failures: no report at ${file} (the test run ended before writing it)`);
  process.exit(0);
}
const maxLines = Number(maxArg ?? 60);

function unescape(s: string): string {
  return s
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");
}

function attr(tag: string, name: string): string {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return m ? unescape(m[1]!) : "";
}

const xml = readFileSync(file, "utf8");
const cases = xml.matchAll(/<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g);
let n = 0;
for (const [, head, body] of cases) {
  const failure = body && /<(failure|error)\b([^>]*?)(?:\/>|>([\s\S]*?)<\/\1>)/.exec(body);
  if (!failure) continue;
  n++;
  const text = unescape(failure[3] ?? attr(failure[2]!, "message")).trimEnd().split("\n");
  const shown = text.length > maxLines ? [...text.slice(0, maxLines), `… (${text.length - maxLines} more lines)`] : text;
  console.log(`\n✗ ${attr(head!, "file")}:${attr(head!, "line")} ${attr(head!, "name")} (${attr(head!, "time")} s)`);
  for (const line of shown) console.log(`    ${line}`);
}
if (n > 0) console.log(`\n${n} failing test${n === 1 ? "" : "s"}, as reported in ${file}`);
