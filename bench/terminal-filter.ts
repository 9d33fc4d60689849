/**
 * What the terminal filter costs per byte of an agent's output, against baselines measured in the same
 * run on the same bytes: a plain copy of each chunk (the least any relay does) and the title-only filter
 * it replaced (loaded from git at BASELINE, when this checkout has it). The corpus is what agent CLIs
 * print: 80-column lines of text with SGR colours, UTF-8 (accents, symbols, emoji) and spinner redraws
 * (`CR CSI 2 K`), cut into 64 KiB chunks as a pipe delivers them.
 * Writes bench/results/terminal-filter.json and prints the markdown table for docs/benchmarks.md.
 *   bun bench/terminal-filter.ts [megabytes=16]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { terminalFilter } from "../src/backends/terminal-filter.ts";

const MB = Number(process.argv[2] ?? 16);
const ROUNDS = 5;
const CHUNK = 64 * 1024;
const BASELINE = "8951fd3";

function corpus(bytes: number): Uint8Array[] {
  const lines = [
    "\x1b[1m\x1b[32m✓\x1b[0m wrote src/app.ts (42 lines) — café, naïve, 🎉 done\n",
    "\x1b[2m  │ \x1b[0mconst total = items.reduce((sum, item) => sum + item.price, 0);\n",
    "\r\x1b[2K\x1b[36m⠋\x1b[0m Thinking… \x1b[90m(12s · esc to interrupt)\x1b[0m",
    "plain text of an ordinary answer line, eighty columns or so, nothing special in it at all.\n",
    "\x1b[38;5;208mwarning\x1b[39m: unused variable `x` at \x1b[4msrc/lib.rs:10:5\x1b[24m\n",
  ];
  const all = new TextEncoder().encode(lines.join("").repeat(Math.ceil(bytes / 400)).slice(0, bytes));
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < all.length; i += CHUNK) chunks.push(all.slice(i, i + CHUNK));
  return chunks;
}

async function previousFilter(): Promise<(() => (c: Uint8Array) => Uint8Array) | undefined> {
  const r = Bun.spawnSync(["git", "show", `${BASELINE}:src/backends/title-filter.ts`], { cwd: resolve(import.meta.dir, ".."), stdout: "pipe", stderr: "ignore" });
  if (r.exitCode !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "bench-termfilter-"));
  const file = join(dir, "title-filter.ts");
  writeFileSync(file, r.stdout);
  const mod = (await import(file)) as { titleFilter: () => (c: Uint8Array) => Uint8Array };
  rmSync(dir, { recursive: true, force: true });
  return mod.titleFilter;
}

function run(chunks: Uint8Array[], make: () => (c: Uint8Array) => Uint8Array): number {
  const f = make();
  let sink = 0;
  const t0 = Bun.nanoseconds();
  for (const c of chunks) sink += f(c).length;
  const ms = (Bun.nanoseconds() - t0) / 1e6;
  if (sink === 0) throw new Error("nothing came through");
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const chunks = corpus(MB * 1024 * 1024);
const prev = await previousFilter();
const setups: [string, () => (c: Uint8Array) => Uint8Array][] = [
  ["copy", () => (c) => c.slice()],
  ...(prev ? ([["title filter (before)", prev]] as [string, () => (c: Uint8Array) => Uint8Array][]) : []),
  ["interactive", () => terminalFilter("interactive")],
  ["headless", () => terminalFilter("headless")],
];
for (const [, make] of setups) run(chunks, make); // warm-up
const times: Record<string, number[]> = Object.fromEntries(setups.map(([n]) => [n, []]));
for (let r = 0; r < ROUNDS; r++) {
  // Interleaved, order rotating each round.
  for (let k = 0; k < setups.length; k++) {
    const [name, make] = setups[(k + r) % setups.length]!;
    times[name]!.push(run(chunks, make));
  }
}
const ms = Object.fromEntries(setups.map(([n]) => [n, median(times[n]!)]));
const result = {
  date: new Date().toISOString().slice(0, 10),
  bun: Bun.version,
  cpus: cpus().length,
  megabytes: MB,
  chunkBytes: CHUNK,
  rounds: ROUNDS,
  medianMs: ms,
  mbPerSecond: Object.fromEntries(setups.map(([n]) => [n, MB / (ms[n]! / 1000)])),
  ratiosVsCopy: Object.fromEntries(setups.map(([n]) => [n, ms[n]! / ms.copy!])),
  // Per round (setups interleaved), then the median: steadier than a ratio of medians on a loaded machine.
  ratiosVsTitleFilter: prev
    ? Object.fromEntries(setups.map(([n]) => [n, median(times[n]!.map((t, r) => t / times["title filter (before)"]![r]!))]))
    : undefined,
};
writeFileSync(resolve(import.meta.dir, "results/terminal-filter.json"), `${JSON.stringify(result, null, 2)}\n`);
console.log("| setup | median ms | MB/s | × copy | × title filter (before) |\n|---|---|---|---|---|");
for (const [n] of setups) {
  const vsPrev = result.ratiosVsTitleFilter?.[n];
  console.log(`| ${n} | ${ms[n]!.toFixed(1)} | ${result.mbPerSecond[n]!.toFixed(0)} | ${result.ratiosVsCopy[n]!.toFixed(2)}× | ${vsPrev === undefined ? "–" : `${vsPrev.toFixed(2)}×`} |`);
}
