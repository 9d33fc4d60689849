/**
 * Where every benchmark leaves its numbers: a results file under bench/results, and its own section of
 * docs/benchmarks.md, between `<!-- NAME-bench:start -->` and `<!-- NAME-bench:end -->` (appended when the
 * markers are not there yet). One place, so every benchmark's section is replaced the same way.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function publishBench(root: string, o: { results: string; data: unknown; marker: string; section: string }): void {
  mkdirSync(join(root, "bench/results"), { recursive: true });
  writeFileSync(join(root, "bench/results", o.results), `${JSON.stringify(o.data, null, 2)}\n`);
  const docPath = join(root, "docs/benchmarks.md");
  let doc = readFileSync(docPath, "utf8");
  const [a, b] = [`<!-- ${o.marker}-bench:start -->`, `<!-- ${o.marker}-bench:end -->`];
  const s = doc.indexOf(a);
  const e = doc.indexOf(b);
  doc = s >= 0 && e > s ? `${doc.slice(0, s)}${o.section}${doc.slice(e + b.length)}` : `${doc.trimEnd()}\n\n${o.section}\n`;
  writeFileSync(docPath, doc);
}
