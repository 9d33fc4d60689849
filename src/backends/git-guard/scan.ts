/**
 * Finding every place in a workspace where the host's git would find a repository, and listing the
 * configuration surface (surface.ts) of each. Git looks in the current directory and each parent for a
 * `.git` (directory, file or symlink) and for a directory that is itself a git directory, so a person who
 * runs git in any subdirectory can reach any of them: the whole tree is walked, without following symlinks.
 * The walk does not descend into git directories (their objects are not surface); it follows
 * `worktrees/` and `modules/` inside them, which hold more git directories.
 */
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync, type Dirent } from "node:fs";
import { join } from "node:path";
import { looksLikeGitDir, NESTED_GIT_DIRS, SURFACE_DIRS, SURFACE_FILES, type GitDirKind } from "./surface.ts";

export type EntryType = "file" | "dir" | "symlink" | "other";

export interface SurfaceEntry {
  type: EntryType;
  mode: number;
  /** sha256 of a file's bytes. */
  hash?: string;
  /** A symlink's target. */
  target?: string;
}

export interface GitDirFound {
  /** Relative to the workspace ("" for the workspace itself). */
  rel: string;
  kind: GitDirKind;
  dev: number;
  ino: number;
}

export interface Scan {
  gitDirs: GitDirFound[];
  /** Surface entries by path relative to the workspace. */
  entries: Map<string, SurfaceEntry>;
}

export const relJoin = (a: string, b: string) => (a === "" ? b : `${a}/${b}`);

function typeOf(st: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): EntryType {
  return st.isSymbolicLink() ? "symlink" : st.isFile() ? "file" : st.isDirectory() ? "dir" : "other";
}

function list(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

export function hashFile(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

function entryAt(ws: string, rel: string): SurfaceEntry | undefined {
  const p = join(ws, rel);
  let st;
  try {
    st = lstatSync(p);
  } catch {
    return undefined;
  }
  const type = typeOf(st);
  const e: SurfaceEntry = { type, mode: st.mode & 0o7777 };
  if (type === "file") e.hash = hashFile(p);
  if (type === "symlink") e.target = readlinkSync(p);
  return e;
}

/**
 * `extraRoots`: more workspace paths that are surface (files or whole directories), those the recorded
 * configs name (config-paths.ts).
 */
export function scanWorkspace(ws: string, extraRoots: readonly string[] = []): Scan {
  const scan: Scan = { gitDirs: [], entries: new Map() };
  const add = (rel: string) => {
    const e = entryAt(ws, rel);
    if (e) scan.entries.set(rel, e);
    return e;
  };
  const addTree = (rel: string) => {
    const e = add(rel);
    if (e?.type !== "dir") return;
    for (const d of list(join(ws, rel))) addTree(relJoin(rel, d.name));
  };
  const gitDir = (rel: string, kind: GitDirKind) => {
    const st = lstatSync(join(ws, rel));
    scan.gitDirs.push({ rel, kind, dev: st.dev, ino: st.ino });
    if (kind !== "dotgit-dir" && kind !== "bare") {
      add(rel);
      return;
    }
    for (const f of SURFACE_FILES) add(relJoin(rel, f));
    for (const d of SURFACE_DIRS) addTree(relJoin(rel, d));
    for (const n of NESTED_GIT_DIRS) nested(relJoin(rel, n));
  };
  /** worktrees/<id>/ and modules/<name…>/: git directories, possibly under plain directories. */
  const nested = (rel: string) => {
    const st = add(rel);
    if (st?.type !== "dir") return;
    for (const d of list(join(ws, rel))) {
      if (!d.isDirectory()) continue;
      const child = relJoin(rel, d.name);
      if (looksLikeGitDir(new Set(list(join(ws, child)).map((x) => x.name)))) gitDir(child, "bare");
      else nested(child);
    }
  };
  const walk = (rel: string) => {
    const items = list(join(ws, rel));
    const names = new Set(items.map((d) => d.name));
    if (looksLikeGitDir(names)) gitDir(rel, "bare");
    for (const d of items) {
      if (d.name !== ".git") continue;
      const kind: GitDirKind = d.isDirectory() ? "dotgit-dir" : d.isSymbolicLink() ? "dotgit-link" : "dotgit-file";
      gitDir(relJoin(rel, ".git"), kind);
    }
    for (const d of items) if (d.isDirectory() && d.name !== ".git") walk(relJoin(rel, d.name));
  };
  walk("");
  // A path a config names is surface only under real directories: where a directory on the way is a
  // symlink (or not a directory), that entry is the surface, so a link the agent put there is what the
  // check after the run sees and moves aside, and nothing behind it, outside the workspace, is touched.
  for (const rel of extraRoots) {
    const parts = rel.split("/");
    const stop = parts.findIndex((_, i) => i < parts.length - 1 && entryAt(ws, parts.slice(0, i + 1).join("/"))?.type !== "dir");
    if (stop < 0) addTree(rel);
    else add(parts.slice(0, stop + 1).join("/"));
  }
  return scan;
}
