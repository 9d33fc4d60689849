/**
 * The record of a workspace's git surface taken when a bind-mode bottle is created, kept under the run's
 * directory (which no bottle sees): the list of git directories, each surface entry's type, mode and hash,
 * and a copy of every surface file's bytes by hash, so restore.ts can put back exactly what was there.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { configPathsInside } from "./config-paths.ts";
import { hostConfigPathsInside } from "./host-config.ts";
import { MAX_GUARDED_GIT_DIRS } from "./mounts.ts";
import { runDir } from "../../paths.ts";
import { scanWorkspace, type GitDirFound, type Scan, type SurfaceEntry } from "./scan.ts";

export interface GuardRecord {
  version: 1;
  workspace: string;
  gitDirs: GitDirFound[];
  /** Workspace paths outside git directories that their configs name (hooksPath, includes, drivers). */
  extraRoots?: string[];
  entries: [string, SurfaceEntry][];
}

/**
 * What each repository's own config names inside the workspace, and what the host's system and global
 * config (host-config.ts) are or name there, for each repository and outside any.
 */
function namedByConfigs(ws: string, scan: Scan): string[] {
  const out = new Set<string>(hostConfigPathsInside(ws));
  for (const d of scan.gitDirs.slice(0, MAX_GUARDED_GIT_DIRS)) {
    if (d.kind !== "dotgit-dir" && d.kind !== "bare") continue;
    const dir = join(ws, d.rel);
    const worktree = d.kind === "dotgit-dir" ? dirname(dir) : ws;
    for (const rel of hostConfigPathsInside(ws, { gitDir: dir, worktree })) out.add(rel);
    if (scan.entries.get(d.rel === "" ? "config" : `${d.rel}/config`)?.type !== "file") continue;
    for (const rel of configPathsInside(ws, join(dir, "config"), { configDir: dir, worktree })) out.add(rel);
  }
  return [...out].sort();
}

export function guardDir(runId: string, home: string): string {
  return join(runDir(runId, home), "git-guard");
}

export const storePath = (dir: string, hash: string) => join(dir, "store", hash);

/** Scans the workspace and saves the record; returns the scan. */
export function recordSurface(runId: string, home: string, ws: string): Scan & { extraRoots: string[] } {
  const first = scanWorkspace(ws);
  const extraRoots = namedByConfigs(ws, first);
  const scan = extraRoots.length > 0 ? scanWorkspace(ws, extraRoots) : first;
  const dir = guardDir(runId, home);
  mkdirSync(join(dir, "store"), { recursive: true, mode: 0o700 });
  for (const [rel, e] of scan.entries) {
    if (e.type === "file" && e.hash && !existsSync(storePath(dir, e.hash))) copyFileSync(join(ws, rel), storePath(dir, e.hash));
  }
  const rec: GuardRecord = { version: 1, workspace: ws, gitDirs: scan.gitDirs, extraRoots, entries: [...scan.entries] };
  writeFileSync(join(dir, "record.json"), JSON.stringify(rec));
  return { ...scan, extraRoots };
}

export function readGuardRecord(runId: string, home: string): GuardRecord | undefined {
  const f = join(guardDir(runId, home), "record.json");
  if (!existsSync(f)) return undefined;
  return JSON.parse(readFileSync(f, "utf8")) as GuardRecord;
}
