/**
 * The record of a workspace's git surface taken when a bind-mode bottle is created, kept under the run's
 * directory (which no bottle sees): the list of git directories, each surface entry's type, mode and hash,
 * and a copy of every surface file's bytes by hash, so restore.ts can put back exactly what was there.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runDir } from "../../paths.ts";
import { scanWorkspace, type GitDirFound, type Scan, type SurfaceEntry } from "./scan.ts";

export interface GuardRecord {
  version: 1;
  workspace: string;
  gitDirs: GitDirFound[];
  entries: [string, SurfaceEntry][];
}

export function guardDir(runId: string, home: string): string {
  return join(runDir(runId, home), "git-guard");
}

export const storePath = (dir: string, hash: string) => join(dir, "store", hash);

/** Scans the workspace and saves the record; returns the scan. */
export function recordSurface(runId: string, home: string, ws: string): Scan {
  const scan = scanWorkspace(ws);
  const dir = guardDir(runId, home);
  mkdirSync(join(dir, "store"), { recursive: true, mode: 0o700 });
  for (const [rel, e] of scan.entries) {
    if (e.type === "file" && e.hash && !existsSync(storePath(dir, e.hash))) copyFileSync(join(ws, rel), storePath(dir, e.hash));
  }
  const rec: GuardRecord = { version: 1, workspace: ws, gitDirs: scan.gitDirs, entries: [...scan.entries] };
  writeFileSync(join(dir, "record.json"), JSON.stringify(rec));
  return scan;
}

export function readGuardRecord(runId: string, home: string): GuardRecord | undefined {
  const f = join(guardDir(runId, home), "record.json");
  if (!existsSync(f)) return undefined;
  return JSON.parse(readFileSync(f, "utf8")) as GuardRecord;
}
