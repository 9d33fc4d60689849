/**
 * The workspace's git state, read without running anything the workspace could have planted. An agent
 * writes the workspace, and git runs programs named in a repository's own files (core.fsmonitor on
 * `git status`, filter drivers on `git diff`, commondir and include.path pulling config from elsewhere),
 * so bottle never runs git against the workspace's own git directory. Instead:
 *
 * - HEAD, the branch and the commit are read from `.git` as data (a `gitdir:` file and `commondir` are
 *   followed only to read refs and objects), and only well-formed values are kept;
 * - git itself runs against a throwaway git directory that bottle writes: a config with nothing in it, the
 *   workspace's objects as an alternate, a copy of its index, HEAD detached at the commit. No system or
 *   global config, no hooks, fsmonitor off. Attributes in the tree may name drivers, but no driver is
 *   configured, so none runs.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, resolve, sep } from "node:path";
import type { DiffStat, GitState } from "./record.ts";

export const HEX = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const REF = /^refs\/(?!.*\.\.)[A-Za-z0-9._\/-]+$/;
/** git's empty tree: what a repository without commits is compared with. */
const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

export interface GitDirs {
  gitDir: string;
  commonDir: string;
}

function read(p: string): string | undefined {
  try {
    return statSync(p).isFile() ? readFileSync(p, "utf8") : undefined;
  } catch {
    return undefined;
  }
}

/** The workspace's git directory and common directory, or undefined when it is not a repository. */
export function gitDirs(ws: string): GitDirs | undefined {
  const dotGit = join(ws, ".git");
  if (!existsSync(dotGit)) return undefined;
  let gitDir = dotGit;
  if (statSync(dotGit).isFile()) {
    const m = /^gitdir: (.+)$/m.exec(read(dotGit) ?? "");
    if (!m) return undefined;
    gitDir = isAbsolute(m[1]!.trim()) ? m[1]!.trim() : resolve(ws, m[1]!.trim());
  }
  const common = read(join(gitDir, "commondir"))?.trim();
  const commonDir = common ? (isAbsolute(common) ? common : resolve(gitDir, common)) : gitDir;
  return existsSync(join(commonDir, "objects")) ? { gitDir, commonDir } : undefined;
}

function resolveRef(d: GitDirs, ref: string): string | null {
  for (const dir of [d.gitDir, d.commonDir]) {
    const v = read(join(dir, ref))?.trim();
    if (v && HEX.test(v)) return v;
  }
  for (const line of (read(join(d.commonDir, "packed-refs")) ?? "").split("\n")) {
    const [hash, name] = line.trim().split(" ");
    if (name === ref && hash && HEX.test(hash)) return hash;
  }
  return null;
}

function readHead(d: GitDirs): { branch: string | null; commit: string | null } {
  const head = (read(join(d.gitDir, "HEAD")) ?? "").trim();
  const sym = /^ref: (\S+)$/.exec(head);
  if (sym && REF.test(sym[1]!)) {
    const ref = sym[1]!;
    return { branch: ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : ref, commit: resolveRef(d, ref) };
  }
  return { branch: null, commit: HEX.test(head) ? head : null };
}

/** A scratch git directory that reads the workspace's objects and index and nothing else of it. */
export class Scratch {
  readonly dir = mkdtempSync(join(tmpdir(), "bottle-git-"));
  /** Set to write new objects into the workspace's own object store (`--trailer`); default: nowhere of its. */
  objectsDir: string | undefined;
  constructor(
    private readonly ws: string,
    d: GitDirs,
    commit: string | null,
  ) {
    mkdirSync(join(this.dir, "objects", "info"), { recursive: true });
    mkdirSync(join(this.dir, "refs"), { recursive: true });
    writeFileSync(join(this.dir, "objects", "info", "alternates"), `${join(d.commonDir, "objects")}\n`);
    writeFileSync(join(this.dir, "config"), "[core]\n\trepositoryformatversion = 0\n\tbare = false\n");
    writeFileSync(join(this.dir, "HEAD"), commit ? `${commit}\n` : "ref: refs/heads/none\n");
    if (existsSync(join(d.gitDir, "index"))) copyFileSync(join(d.gitDir, "index"), join(this.dir, "index"));
  }

  git(args: string[], input?: string): string | undefined {
    const r = spawnSync(
      "git",
      ["-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-c", "core.untrackedCache=false", "-c", "protocol.allow=never", "--no-pager", ...args],
      {
        cwd: this.ws,
        encoding: "utf8",
        ...(input !== undefined ? { input } : {}),
        timeout: 30_000,
        maxBuffer: 64 * 1024 * 1024,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          GIT_DIR: this.dir,
          GIT_WORK_TREE: this.ws,
          GIT_CONFIG_NOSYSTEM: "1",
          GIT_CONFIG_GLOBAL: "/dev/null",
          HOME: this.dir,
          XDG_CONFIG_HOME: this.dir,
          GIT_TERMINAL_PROMPT: "0",
          GIT_OPTIONAL_LOCKS: "0",
          LC_ALL: "C",
          ...(this.objectsDir ? { GIT_OBJECT_DIRECTORY: this.objectsDir } : {}),
        },
      },
    );
    return r.status === 0 ? r.stdout : undefined;
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function withScratch<T>(ws: string, fn: (s: Scratch, head: { branch: string | null; commit: string | null }, dirs: GitDirs) => T): T | undefined {
  const d = gitDirs(ws);
  if (!d) return undefined;
  const head = readHead(d);
  const s = new Scratch(ws, d, head.commit);
  try {
    return fn(s, head, d);
  } finally {
    s.close();
  }
}

function stateOf(s: Scratch, head: { branch: string | null; commit: string | null }): GitState {
  const tree = head.commit ? (s.git(["rev-parse", `${head.commit}^{tree}`])?.trim() ?? null) : null;
  const status = s.git(["status", "--porcelain", "--ignore-submodules=all", "--untracked-files=normal"]);
  return { commit: head.commit, tree: tree && HEX.test(tree) ? tree : null, branch: head.branch, dirty: status === undefined ? true : status.trim() !== "" };
}

/** The workspace's commit, tree, branch and dirty flag; null when it is not a git repository. */
export function gitState(ws: string): GitState | null {
  return withScratch(ws, stateOf) ?? null;
}

function parseNumstat(text: string): DiffStat {
  const changes: DiffStat["changes"] = [];
  for (const line of text.split("\n")) {
    const m = /^(-|\d+)\t(-|\d+)\t(.+)$/.exec(line);
    if (!m) continue;
    changes.push({ path: m[3]!, insertions: m[1] === "-" ? 0 : Number(m[1]), deletions: m[2] === "-" ? 0 : Number(m[2]) });
  }
  changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files: changes.length, insertions: changes.reduce((n, c) => n + c.insertions, 0), deletions: changes.reduce((n, c) => n + c.deletions, 0), changes };
}

/** Where the workspace's git directories really are (realpaths), to compare the end with the start. */
export function gitLocation(ws: string): GitDirs | null {
  const d = gitDirs(ws);
  if (!d) return null;
  try {
    return { gitDir: realpathSync(d.gitDir), commonDir: realpathSync(d.commonDir) };
  } catch {
    return null;
  }
}

/**
 * Whether the git directories of `ws` are ones bottle may read at the end: inside the workspace, or the
 * same ones as at the start (a worktree's). An agent that points `.git` (a `gitdir:` file, `commondir`)
 * at another repository on the host would otherwise get that repository's refs and file names into a
 * record that CI publishes.
 */
export function sameGitPlace(ws: string, start: GitDirs | null): boolean {
  const now = gitLocation(ws);
  if (!now) return true;
  const root = realpathSync(ws) + sep;
  const inside = (p: string) => (p + sep).startsWith(root);
  if (inside(now.gitDir) && inside(now.commonDir)) return true;
  return !!start && start.gitDir === now.gitDir && start.commonDir === now.commonDir;
}

/**
 * The workspace now (state), and what changed since `startCommit` (the commit the run started at; null:
 * the repository had none): committed, staged and unstaged changes and new untracked files, as a numstat.
 */
export function gitEnd(ws: string, startCommit: string | null): { state: GitState; diff: DiffStat | null } | null {
  return (
    withScratch(ws, (s, head) => {
      const state = stateOf(s, head);
      // New files count as changes: mark them intent-to-add in the scratch index (the workspace's is untouched).
      s.git(["add", "--intent-to-add", "--all", "--", "."]);
      const base = startCommit && s.git(["cat-file", "-e", `${startCommit}^{commit}`]) !== undefined ? startCommit : EMPTY_TREE;
      const out = s.git(["diff", "--numstat", "--no-renames", "--no-ext-diff", "--no-textconv", "--ignore-submodules=all", base]);
      return { state, diff: out === undefined ? null : parseNumstat(out) };
    }) ?? null
  );
}
