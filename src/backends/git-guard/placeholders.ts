/**
 * Closing the files that do not exist yet. A mount can only cover a path that exists, and `commondir` and
 * `config.worktree` usually do not: an agent could create them during the run, and an editor's git
 * integration or a shell prompt polling `git status` on the host would follow them before the check after
 * the run. So, for the run, bottle creates them itself in each repository's git directory with contents
 * that change nothing: `commondir` containing `.` (the common directory is the git directory itself) and an
 * empty `config.worktree`. They are mounted read-only like the rest, and removed after the run if they
 * still hold exactly that. A run that dies without its teardown leaves them in place, still harmless.
 */
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { GitDirFound } from "./scan.ts";

export const PLACEHOLDERS: Readonly<Record<string, string>> = { commondir: ".\n", "config.worktree": "" };

const LIST = "placeholders.json";

/** Creates the missing placeholders in each repository's git directory; returns their workspace paths. */
export function placePlaceholders(ws: string, gitDirs: readonly GitDirFound[], guardDir: string): string[] {
  const made: string[] = [];
  for (const d of gitDirs) {
    if (d.kind !== "dotgit-dir" && !(d.kind === "bare" && /(^|\/)\.git\/modules\//.test(d.rel))) continue;
    for (const [name, text] of Object.entries(PLACEHOLDERS)) {
      const rel = `${d.rel}/${name}`;
      try {
        const fd = openSync(join(ws, rel), "wx", 0o644);
        try {
          writeSync(fd, text);
        } finally {
          closeSync(fd);
        }
        made.push(rel);
      } catch {
        /* exists already (then it is recorded and guarded as it is), or the directory is not writable */
      }
    }
  }
  const file = join(guardDir, LIST);
  const before = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as string[]) : [];
  writeFileSync(file, JSON.stringify([...new Set([...before, ...made])]));
  return made;
}

/** Removes the placeholders bottle made, where they still hold exactly what it wrote. */
export function removePlaceholders(ws: string, guardDir: string): void {
  const file = join(guardDir, LIST);
  if (!existsSync(file)) return;
  for (const rel of JSON.parse(readFileSync(file, "utf8")) as string[]) {
    const name = rel.slice(rel.lastIndexOf("/") + 1);
    const p = join(ws, rel);
    try {
      if (readFileSync(p, "utf8") === PLACEHOLDERS[name]) rmSync(p);
    } catch {
      /* gone already */
    }
  }
  rmSync(file, { force: true });
}
