/**
 * The host's own git configuration (system and global, with what they include) can point into the
 * workspace too, and git reads it on every command: `core.hooksPath = .githooks` set globally is relative
 * to the work tree of whatever repository git runs in, an `include.path` or `includeIf` can name a file in
 * the workspace, and a dotfiles repository often *is* the global config (`~/.gitconfig` a link into it).
 * Then what the agent writes in the workspace runs on the host although no `.git` file changed. This finds
 * those workspace files, so git-guard freezes and restores them like the repository's own surface.
 * Read as the host's git will read it: the same environment (HOME, XDG_CONFIG_HOME, GIT_CONFIG_GLOBAL,
 * GIT_CONFIG_SYSTEM, GIT_CONFIG_NOSYSTEM), and with the repository as GIT_DIR so `includeIf gitdir:`
 * conditions apply. Runs before the bottle starts, when the repository is still the user's.
 */
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { insideWorkspace, namedPaths } from "./config-paths.ts";
import type { ConfigEntry } from "./surface.ts";

/** One `git config --list --show-scope --show-origin --null` record. */
interface OriginEntry extends ConfigEntry {
  scope: string;
  /** The file it came from, when it came from a file. */
  file?: string;
}

/** Parses `scope\0origin\0key\nvalue\0` records. */
export function parseScopedList(text: string): OriginEntry[] {
  const parts = text.split("\0");
  const out: OriginEntry[] = [];
  for (let i = 0; i + 2 < parts.length; i += 3) {
    const [scope, origin, kv] = [parts[i]!, parts[i + 1]!, parts[i + 2]!];
    const nl = kv.indexOf("\n");
    const e: OriginEntry = { scope, key: nl < 0 ? kv : kv.slice(0, nl), value: nl < 0 ? "true" : kv.slice(nl + 1) };
    if (origin.startsWith("file:")) e.file = origin.slice(5);
    out.push(e);
  }
  return out;
}

/** The environment git finds the host's configuration by (nothing else of ours). */
function gitEnv(gitDir?: string): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? homedir() };
  for (const k of ["XDG_CONFIG_HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM"]) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  if (gitDir) env.GIT_DIR = gitDir;
  return env;
}

/** The system and global config files git would read, whether or not they hold anything yet. */
export function hostConfigFiles(env: Record<string, string | undefined> = process.env): string[] {
  const home = env.HOME ?? homedir();
  const out: string[] = [];
  const noSystem = env.GIT_CONFIG_NOSYSTEM;
  if (!noSystem || /^(0|false|no|off)$/i.test(noSystem)) out.push(env.GIT_CONFIG_SYSTEM ?? "/etc/gitconfig");
  if (env.GIT_CONFIG_GLOBAL !== undefined) out.push(env.GIT_CONFIG_GLOBAL);
  else out.push(join(home, ".gitconfig"), join(env.XDG_CONFIG_HOME || join(home, ".config"), "git", "config"));
  return out.filter((f) => f !== "" && f !== "/dev/null");
}

/**
 * Workspace-relative paths the host's system and global config (and the files they include) are, or name,
 * for a repository whose git directory is `gitDir` and whose work tree is `worktree` (or none: outside any).
 * Without `gitDir` (a repository the agent made: its own config is not read) conditional includes that
 * depend on the repository are not applied.
 */
export function hostConfigPathsInside(ws: string, repo?: { gitDir?: string; worktree: string }): string[] {
  const out = new Set<string>();
  const add = (p: string) => {
    const rel = insideWorkspace(ws, p);
    if (rel !== undefined) out.add(rel);
  };
  for (const f of hostConfigFiles()) add(f);
  const git = Bun.which("git");
  if (!git) return [...out];
  const list = (gitDir?: string) =>
    Bun.spawnSync([git, "config", "--list", "--show-scope", "--show-origin", "--includes", "--null"], { stdout: "pipe", stderr: "pipe", env: gitEnv(gitDir), cwd: "/", timeout: 30_000 });
  let r = list(repo?.gitDir);
  // A repository git will not open (another owner, say) still has the host's config applied to it: read that alone.
  if (r.exitCode !== 0 && repo?.gitDir) r = list();
  if (r.exitCode !== 0) return [...out];
  const entries = parseScopedList(r.stdout.toString()).filter((e) => e.scope === "system" || e.scope === "global");
  const byFile = new Map<string, ConfigEntry[]>();
  for (const e of entries) {
    if (!e.file) continue;
    add(e.file);
    byFile.set(e.file, [...(byFile.get(e.file) ?? []), e]);
  }
  for (const [file, list] of byFile) for (const p of namedPaths(list, { configDir: dirname(file), worktree: repo?.worktree ?? ws })) add(p);
  return [...out];
}
