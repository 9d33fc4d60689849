/**
 * Files outside a git directory that its own configuration makes git read or run. A repository's config
 * can point into the work tree: `core.hooksPath = .husky/_` (hook managers do this), `include.path =
 * ../.gitconfig` (a config file kept in the repository), a filter or diff driver that runs
 * `scripts/clean.sh`. Those files are ordinary files in the workspace, so an agent could change what the
 * host's next `git commit` runs without touching `.git`. git-guard treats them as part of the surface: they
 * are read-only in the bottle and restored after it. The config is read with the host's git
 * (`--file`, which reads no other config), the paths are picked out here.
 */
import { existsSync, realpathSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { parseConfigList, type ConfigEntry } from "./surface.ts";

/** Keys whose value is a path git reads or runs. */
const PATH_KEYS = /^(include\.path|includeif\..+\.path|core\.hookspath|core\.attributesfile)$/;
/** Keys whose value is a command line git runs (its words that look like paths are the candidates). */
const COMMAND_KEYS =
  /^(core\.(fsmonitor|sshcommand|pager|editor|askpass|gitproxy)|sequence\.editor|diff\.external|diff\..+\.(command|textconv)|filter\..+\.(clean|smudge|process)|merge\..+\.driver|credential\.(.+\.)?helper|gpg\.(.+\.)?program|pager\..+|alias\..+|interactive\.difffilter)$/;

export interface PathContext {
  /** Directory of the config file (include paths are relative to it). */
  configDir: string;
  /** The work tree the commands run in (relative hook and command paths are relative to it). */
  worktree: string;
}

/**
 * Absolute paths the entries name. `~/` is the home git and the shell expand it to (a workspace under the
 * home is reached that way too); `~user` and `$VAR` paths are left out.
 */
export function namedPaths(entries: readonly ConfigEntry[], c: PathContext): string[] {
  const out = new Set<string>();
  const home = process.env.HOME ?? homedir();
  const add = (p: string, base: string) => {
    let v = p.replace(/^["']|["']$/g, "");
    if (v === "~" || v.startsWith("~/")) v = join(home, v.slice(1));
    if (v === "" || v.startsWith("~") || v.startsWith("$")) return;
    out.add(isAbsolute(v) ? resolve(v) : resolve(base, v));
  };
  for (const { key, value } of entries) {
    const k = key.toLowerCase();
    if (PATH_KEYS.test(k)) add(value, k.startsWith("include") ? c.configDir : c.worktree);
    else if (COMMAND_KEYS.test(k)) {
      if (k.startsWith("alias.") && !value.startsWith("!")) continue;
      for (const word of value.replace(/^!/, "").split(/\s+/)) if (word.includes("/")) add(word, c.worktree);
    }
  }
  return [...out];
}

/** `p` relative to the workspace when it (after following links outside the workspace) lies inside it. */
export function insideWorkspace(ws: string, p: string): string | undefined {
  const roots = new Set([resolve(ws)]);
  try {
    roots.add(realpathSync(ws));
  } catch {}
  let real = resolve(p);
  // Follow links as git will: the nearest existing ancestor, resolved, plus the rest of the path.
  for (let head = real, tail = ""; ; ) {
    if (existsSync(head)) {
      try {
        real = join(realpathSync(head), tail);
      } catch {}
      break;
    }
    const up = dirname(head);
    if (up === head) break;
    tail = tail === "" ? basename(head) : join(basename(head), tail);
    head = up;
  }
  for (const root of roots) {
    for (const cand of [real, resolve(p)]) {
      const rel = relative(root, cand);
      if (rel !== "" && !rel.startsWith("..") && !isAbsolute(rel)) return rel;
    }
  }
  return undefined;
}

/** The workspace-relative paths inside `ws` that a git directory's config names. */
export function configPathsInside(ws: string, configFile: string, c: PathContext): string[] {
  const git = Bun.which("git");
  if (!git) return [];
  const r = Bun.spawnSync([git, "config", "--file", configFile, "--includes", "--null", "--list"], {
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? homedir(), GIT_CONFIG_NOSYSTEM: "1" },
  });
  if (r.exitCode !== 0) return [];
  return namedPaths(parseConfigList(r.stdout.toString()), c).flatMap((p) => insideWorkspace(ws, p) ?? []);
}
