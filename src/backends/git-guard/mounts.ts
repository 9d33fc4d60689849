/**
 * What the backends mount over the workspace so that, during a run, the agent cannot change git's surface
 * of the repositories that were there when it started. Each git directory is bound onto itself: a mount
 * point cannot be renamed or removed (EBUSY), so `mv .git .git-orig` and `rm -rf .git` fail. Its
 * configuration files and hook directories are then bound read-only, and a `.git` file that points at a
 * git directory is read-only too. Files that do not exist yet (commondir, config.worktree) cannot be
 * mounted without creating them in the user's directory, so restore.ts checks for them after the run.
 * Pure: the record comes from scan.ts.
 */
import type { GitDirKind } from "./surface.ts";

export interface GuardMount {
  /** Path relative to the workspace. */
  rel: string;
  /** `self`: bound writable onto itself (cannot be renamed); `ro`: bound read-only. */
  mode: "self" | "ro";
}

export interface RecordedGitDir {
  rel: string;
  kind: GitDirKind;
}

/** Above this many repositories in one workspace, only the check after the run protects the rest. */
export const MAX_GUARDED_GIT_DIRS = 64;

const READ_ONLY_IN_GIT_DIR = ["config", "config.worktree", "commondir", "hooks", "info", "worktrees"];

/** `extraRoots`: workspace files the repositories' configs name (hooks dirs, included configs, driver scripts). */
export function guardMounts(dirs: readonly RecordedGitDir[], exists: (rel: string) => boolean, extraRoots: readonly string[] = []): GuardMount[] {
  const out: GuardMount[] = [];
  // Repositories in the workspace, and submodules' git directories (.git/modules/…): each is a git
  // directory the host's git reads. A linked worktree's (.git/worktrees/<id>) are under worktrees/, which
  // is read-only as a whole.
  const top = [...dirs].filter((d) => !/(^|\/)\.git\/worktrees\//.test(d.rel)).sort((a, b) => a.rel.length - b.rel.length);
  for (const d of top.slice(0, MAX_GUARDED_GIT_DIRS)) {
    if (d.kind === "dotgit-file") {
      out.push({ rel: d.rel, mode: "ro" });
      continue;
    }
    if (d.kind === "dotgit-link") continue;
    if (d.rel !== "") out.push({ rel: d.rel, mode: "self" });
    for (const f of READ_ONLY_IN_GIT_DIR) {
      const rel = d.rel === "" ? f : `${d.rel}/${f}`;
      if (exists(rel)) out.push({ rel, mode: "ro" });
    }
  }
  for (const rel of extraRoots) if (exists(rel) && !out.some((m) => m.rel === rel)) out.push({ rel, mode: "ro" });
  return out;
}
