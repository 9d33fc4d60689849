/**
 * Git's configuration surface: the files in a repository's git directory that make git run a program or
 * read configuration from somewhere else. An agent in bind mode writes to the user's own workspace, and the
 * user's next `git status` on the host reads these files, so they are what git-guard freezes during a run
 * and restores afterwards. Pure: names and rules only; scan.ts and restore.ts do the I/O.
 *
 * Sources (git-config(1), gitrepository-layout(5)): `config` (core.fsmonitor, core.hooksPath, core.pager,
 * core.sshCommand, filter and diff drivers, include.path…), `config.worktree` (read once
 * extensions.worktreeConfig is on), `commondir` (another directory's config and hooks are used), `gitdir`,
 * `hooks/`, `info/` (attributes choose drivers), `worktrees/<id>/` (each a git directory of a linked
 * worktree) and `modules/**` (submodules' git directories).
 */

/** Files directly in a git directory that are part of the surface. */
export const SURFACE_FILES = ["config", "config.worktree", "commondir", "gitdir"] as const;
/** Directories whose whole content is part of the surface. */
export const SURFACE_DIRS = ["hooks", "info"] as const;
/** Directories that hold more git directories. */
export const NESTED_GIT_DIRS = ["worktrees", "modules"] as const;

/** How git would find a repository at a place in the workspace. */
export type GitDirKind = "dotgit-dir" | "dotgit-file" | "dotgit-link" | "bare";

/**
 * Whether a directory with these entries is one git accepts as a repository when it is the current
 * directory (discovery checks the directory itself after `.git`): a HEAD plus objects and refs, or a HEAD
 * plus a commondir that supplies them.
 */
export function looksLikeGitDir(names: ReadonlySet<string>): boolean {
  return names.has("HEAD") && (names.has("commondir") || (names.has("objects") && names.has("refs")));
}

/**
 * In a git directory the agent created (there was none at that place before the run), what may stay:
 * git's sample hooks (never run: git runs only hooks without the `.sample` suffix) and info/exclude (it
 * only hides files). Everything else on the surface is moved aside; `config` is replaced by its safe keys.
 */
export function keptInNewGitDir(relInGitDir: string, type: "file" | "dir" | "symlink" | "other"): boolean {
  if (relInGitDir === "hooks" || relInGitDir === "info") return type === "dir";
  if (type !== "file") return false;
  if (/^hooks\/[^/]+\.sample$/.test(relInGitDir)) return true;
  return relInGitDir === "info/exclude";
}

/**
 * Keys kept from the config of a git directory the agent created: enough for the repository, its remotes
 * and branches to keep working, and nothing that names a program, another file or a driver.
 */
const SAFE_KEYS: RegExp[] = [
  /^core\.(repositoryformatversion|bare|filemode|logallrefupdates|ignorecase|precomposeunicode|symlinks|autocrlf|eol)$/,
  /^extensions\.objectformat$/,
  /^remote\.[^\n]+\.(url|pushurl|fetch)$/,
  /^branch\.[^\n]+\.(remote|merge|rebase)$/,
  /^user\.(name|email)$/,
  /^init\.defaultbranch$/,
];

export interface ConfigEntry {
  key: string;
  value: string;
}

/** The entries of a config kept in a new git directory. A remote URL that runs a command (ext::) is dropped. */
export function safeConfigEntries(entries: readonly ConfigEntry[]): ConfigEntry[] {
  return entries.filter((e) => SAFE_KEYS.some((r) => r.test(e.key)) && !(/\.(url|pushurl)$/.test(e.key) && /^ext::/i.test(e.value)));
}

/** `git config --null --list` output: `key\nvalue\0` records (a key without a value has no newline). */
export function parseConfigList(text: string): ConfigEntry[] {
  return text
    .split("\0")
    .filter((r) => r !== "")
    .map((r) => {
      const nl = r.indexOf("\n");
      return nl < 0 ? { key: r, value: "true" } : { key: r.slice(0, nl), value: r.slice(nl + 1) };
    });
}

function quote(v: string): string {
  return `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\t/g, "\\t")}"`;
}

/** Git config text for entries whose keys came from `git config --list` (section.subsection.name). */
export function configText(entries: readonly ConfigEntry[]): string {
  const sections = new Map<string, string[]>();
  for (const { key, value } of entries) {
    const first = key.indexOf(".");
    const last = key.lastIndexOf(".");
    if (first < 0) continue;
    const section = key.slice(0, first);
    const sub = first === last ? undefined : key.slice(first + 1, last);
    if (sub !== undefined && /[\n\0]/.test(sub)) continue;
    const head = sub === undefined ? `[${section}]` : `[${section} "${sub.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"]`;
    const lines = sections.get(head) ?? [];
    lines.push(`\t${key.slice(last + 1)} = ${quote(value)}`);
    sections.set(head, lines);
  }
  if (!sections.has("[core]")) sections.set("[core]", ["\trepositoryformatversion = 0"]);
  return [...sections].map(([h, ls]) => [h, ...ls].join("\n")).join("\n") + "\n";
}
