/**
 * After a bind-mode run: make every git surface in the workspace what it was before the run, and say what
 * was changed. A git directory the agent moved away is moved back (found by its inode); a surface entry it
 * changed or added is moved into the run's quarantine directory and the recorded one is put back; a git
 * directory it created keeps its objects, refs, sample hooks and info/exclude, and its config is replaced
 * by the config's safe keys (surface.ts). A `.git` file or symlink the agent created is moved aside unless it
 * points at a git directory inside the workspace (which is itself checked). Nothing here follows a
 * symlink: entries are moved, and restored files are created only under real directories.
 */
import { constants, copyFileSync, chmodSync, cpSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, normalize, relative } from "node:path";
import { hostConfigPathsInside } from "./host-config.ts";
import { guardDir, readGuardRecord, storePath } from "./record.ts";
import { scanWorkspace, type GitDirFound, type Scan, type SurfaceEntry } from "./scan.ts";
import { configText, keptInNewGitDir, parseConfigList, safeConfigEntries } from "./surface.ts";

export interface GuardFinding {
  /** Workspace-relative path. */
  path: string;
  what: string;
}

function lstatOrUndefined(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

function same(a: SurfaceEntry, b: SurfaceEntry): boolean {
  if (a.type !== b.type) return false;
  if (a.type === "file") return a.hash === b.hash && a.mode === b.mode;
  if (a.type === "symlink") return a.target === b.target;
  return true;
}

/** Every component of `rel` under `ws` is a real directory (no symlink can redirect a write). */
function realDirs(ws: string, rel: string): boolean {
  let p = ws;
  for (const part of rel.split("/").filter((x) => x !== "")) {
    p = join(p, part);
    if (!lstatOrUndefined(p)?.isDirectory()) return false;
  }
  return true;
}

function moveAside(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  try {
    renameSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EXDEV") throw e;
    cpSync(from, to, { recursive: true, verbatimSymlinks: true });
    rmSync(from, { recursive: true, force: true });
  }
}

/** The git directory (of this scan) that holds `rel`: the longest one that is `rel` or a parent of it. */
function ownerOf(scan: Scan, rel: string): GitDirFound | undefined {
  let best: GitDirFound | undefined;
  for (const d of scan.gitDirs) {
    const holds = d.rel === "" || rel === d.rel || rel.startsWith(`${d.rel}/`);
    if (holds && (!best || d.rel.length > best.rel.length)) best = d;
  }
  return best;
}

/** A `.git` file whose `gitdir:` names a git directory of this scan, inside the workspace. */
function pointsInside(ws: string, rel: string, scan: Scan): boolean {
  const m = /^gitdir: (.+?)\s*$/m.exec(readFileSync(join(ws, rel), "utf8"));
  if (!m) return false;
  const target = normalize(isAbsolute(m[1]!) ? m[1]! : join(ws, dirname(rel), m[1]!));
  const inside = relative(ws, target);
  if (inside.startsWith("..") || isAbsolute(inside) || !realDirs(ws, inside)) return false;
  return scan.gitDirs.some((d) => d.rel === inside);
}

function safeConfig(quarantined: string): string {
  const git = Bun.which("git");
  if (!git) return configText([]);
  const r = Bun.spawnSync([git, "config", "--file", quarantined, "--null", "--list"], { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", GIT_CONFIG_NOSYSTEM: "1" } });
  return configText(r.exitCode === 0 ? safeConfigEntries(parseConfigList(r.stdout.toString())) : []);
}

export function restoreSurface(runId: string, home: string, ws: string): { findings: GuardFinding[]; quarantine: string } {
  const rec = readGuardRecord(runId, home);
  const quarantine = join(guardDir(runId, home), "quarantine", new Date().toISOString().replace(/[:.]/g, "-"));
  const findings: GuardFinding[] = [];
  if (!rec) return { findings, quarantine };
  const aside = (rel: string) => moveAside(join(ws, rel), join(quarantine, rel === "" ? "workspace-root" : rel));
  const extra = rec.extraRoots ?? [];
  let scan = scanWorkspace(ws, extra);

  // 1. A git directory that was renamed comes back to its place (what took its place is moved aside).
  for (const g of rec.gitDirs) {
    if (g.kind !== "dotgit-dir" || /(^|\/)\.git\//.test(g.rel)) continue;
    const now = lstatOrUndefined(join(ws, g.rel));
    if (now && now.ino === g.ino && now.dev === g.dev) continue;
    const moved = scan.gitDirs.find((d) => d.ino === g.ino && d.dev === g.dev && d.rel !== g.rel);
    if (!moved || !realDirs(ws, dirname(g.rel) === "." ? "" : dirname(g.rel))) {
      if (!now) findings.push({ path: g.rel, what: "the repository's git directory is gone and was not found elsewhere in the workspace" });
      continue;
    }
    if (now) {
      aside(g.rel);
      findings.push({ path: g.rel, what: `was replaced; the replacement was moved to ${join(quarantine, g.rel)}` });
    }
    renameSync(join(ws, moved.rel), join(ws, g.rel));
    findings.push({ path: g.rel, what: `had been moved to ${moved.rel}; moved back` });
    scan = scanWorkspace(ws, extra);
  }

  // A repository the agent made gets the host's own config too (a global `core.hooksPath = .githooks` is
  // relative to its work tree): what that names there is surface, and anything in it was the agent's.
  const made = scan.gitDirs.filter((d) => (d.kind === "dotgit-dir" || d.kind === "bare") && !rec.gitDirs.some((g) => g.rel === d.rel) && !/(^|\/)\.git\//.test(d.rel));
  const madeRoots = made.flatMap((d) => hostConfigPathsInside(ws, { worktree: d.kind === "dotgit-dir" ? dirname(join(ws, d.rel)) : ws }));
  const newRoots = [...new Set(madeRoots)].filter((r) => !extra.includes(r));
  if (newRoots.length > 0) scan = scanWorkspace(ws, [...extra, ...newRoots]);

  // 2. Changed or added surface entries are moved aside.
  const recorded = new Map(rec.entries);
  const recordedDirs = new Set(rec.gitDirs.map((d) => d.rel));
  const movedPrefixes: string[] = [];
  for (const [rel, cur] of [...scan.entries].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (movedPrefixes.some((p) => rel.startsWith(`${p}/`))) continue;
    const was = recorded.get(rel);
    if (was && same(was, cur)) continue;
    const owner = ownerOf(scan, rel);
    if (!was && owner && !recordedDirs.has(owner.rel)) {
      const inner = rel === owner.rel ? "" : relative(owner.rel === "" ? "." : owner.rel, rel);
      if (owner.kind === "dotgit-file" && inner === "" && pointsInside(ws, rel, scan)) continue;
      if (inner !== "" && keptInNewGitDir(inner, cur.type)) continue;
      aside(rel);
      if (cur.type === "dir") movedPrefixes.push(rel);
      if (inner === "config" && cur.type === "file") {
        writeFileSync(join(ws, rel), safeConfig(join(quarantine, rel)), { flag: "wx", mode: 0o644 });
        findings.push({ path: rel, what: `was written in the bottle; replaced by its safe keys (the original is in ${join(quarantine, rel)})` });
      } else {
        findings.push({ path: rel, what: `was written in the bottle; moved to ${join(quarantine, rel)}` });
      }
      continue;
    }
    if (was?.type === "dir" && cur.type === "dir") continue;
    aside(rel);
    if (cur.type === "dir") movedPrefixes.push(rel);
    findings.push({ path: rel, what: `was ${was ? "changed" : "added"} in the bottle; moved to ${join(quarantine, rel)}` });
  }

  // 3. Recorded entries that are missing now are put back, under real directories only.
  const dir = guardDir(runId, home);
  for (const [rel, was] of [...recorded].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const p = join(ws, rel);
    if (lstatOrUndefined(p)) continue;
    const parent = dirname(rel) === "." ? "" : dirname(rel);
    if (!realDirs(ws, parent)) continue;
    if (was.type === "dir") mkdirSync(p, { mode: was.mode });
    else if (was.type === "file" && was.hash) {
      copyFileSync(storePath(dir, was.hash), p, constants.COPYFILE_EXCL);
      chmodSync(p, was.mode);
    } else if (was.type === "symlink" && was.target !== undefined) symlinkSync(was.target, p);
    else continue;
    findings.push({ path: rel, what: "restored as it was before the run" });
  }
  return { findings, quarantine };
}

