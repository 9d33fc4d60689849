/**
 * What containment costs at the edges of a run, against baselines measured in the same run on the same
 * trees:
 *   - git-guard: recording a workspace's git surface before a bind-mode bottle starts, and checking it
 *     after, against one `git status` of the same workspace (what the user runs next anyway);
 *   - the snapshot copy that follows no symlink (snapshot-copy.ts), against the plain recursive copy it
 *     replaced (fs.cpSync with an lstat filter) on the same home.
 * Writes bench/results/containment.json and prints the markdown table for docs/benchmarks.md.
 *   bun bench/containment.ts [files=20000]
 */
import { cpSync, lstatSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { recordSurface } from "../src/backends/git-guard/record.ts";
import { restoreSurface } from "../src/backends/git-guard/restore.ts";
import { copySnapshotTree } from "../src/backends/snapshot-copy.ts";

const FILES = Number(process.argv[2] ?? 20_000);
const ROUNDS = 5;
const root = mkdtempSync(join(tmpdir(), "bench-containment-"));

function tree(dir: string, files: number): void {
  for (let i = 0; i < files; i++) {
    const d = join(dir, `d${i % 50}`, `e${i % 400}`);
    if (i < 400) mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `f${i}.txt`), `file ${i}\n`.repeat(8));
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

const ws = join(root, "ws");
mkdirSync(ws);
const git = (...args: string[]) => Bun.spawnSync(["git", "-c", "user.name=b", "-c", "user.email=b@e", ...args], { cwd: ws, stdout: "ignore", stderr: "ignore", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: root, GIT_CONFIG_NOSYSTEM: "1" } });
git("init", "-q");
tree(ws, FILES);
git("add", "-A");
git("commit", "-qm", "bench");
const home = join(root, "bottle-home");

const status: number[] = [];
const record: number[] = [];
const check: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  status.push(time(() => git("status", "--porcelain")));
  record.push(time(() => recordSurface(`bench-${r}`, home, ws)));
  check.push(time(() => restoreSurface(`bench-${r}`, home, ws)));
}

const src = join(root, "home");
mkdirSync(src);
tree(src, FILES);
const plain: number[] = [];
const safe: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const a = join(root, `plain-${r}`);
  plain.push(time(() => cpSync(src, a, { recursive: true, force: true, preserveTimestamps: true, verbatimSymlinks: true, filter: (p) => { const st = lstatSync(p); return st.isFile() || st.isDirectory() || st.isSymbolicLink(); } })));
  const b = join(root, `safe-${r}`);
  safe.push(time(() => copySnapshotTree(src, b)));
  rmSync(a, { recursive: true, force: true });
  rmSync(b, { recursive: true, force: true });
}
rmSync(root, { recursive: true, force: true });

const m = { status: median(status), record: median(record), check: median(check), plain: median(plain), safe: median(safe) };
const result = {
  date: new Date().toISOString().slice(0, 10),
  bun: Bun.version,
  cpus: cpus().length,
  files: FILES,
  rounds: ROUNDS,
  medianMs: m,
  ratios: { recordVsGitStatus: m.record / m.status, checkVsGitStatus: m.check / m.status, snapshotCopyVsPlainCopy: m.safe / m.plain },
};
writeFileSync(resolve(import.meta.dir, "results/containment.json"), `${JSON.stringify(result, null, 2)}\n`);
const f = (x: number) => x.toFixed(1);
const x = (v: number) => `${v.toFixed(2)}×`;
console.log(`| step | median ms | baseline | baseline ms | ratio |
|---|---|---|---|---|
| git-guard record (before the bottle) | ${f(m.record)} | \`git status\` | ${f(m.status)} | ${x(result.ratios.recordVsGitStatus)} |
| git-guard check (after the bottle) | ${f(m.check)} | \`git status\` | ${f(m.status)} | ${x(result.ratios.checkVsGitStatus)} |
| snapshot copy, no symlink followed | ${f(m.safe)} | plain recursive copy | ${f(m.plain)} | ${x(result.ratios.snapshotCopyVsPlainCopy)} |`);
