/**
 * git-guard's pure rules and its scan, on real directories: which configuration keys survive in a
 * repository the agent made, what is mounted to freeze a workspace's git surface, and that the scan finds
 * every place the host's git would read (nested repositories, bare-looking directories, `.git` files and
 * links, linked worktrees' and submodules' git directories) without following symlinks.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { insideWorkspace, namedPaths } from "../../src/backends/git-guard/config-paths.ts";
import { hostConfigFiles, parseScopedList } from "../../src/backends/git-guard/host-config.ts";
import { guardMounts } from "../../src/backends/git-guard/mounts.ts";
import { scanWorkspace } from "../../src/backends/git-guard/scan.ts";
import { configText, keptInNewGitDir, looksLikeGitDir, parseConfigList, safeConfigEntries } from "../../src/backends/git-guard/surface.ts";
import { freshWorkspace } from "../helpers/bottles.ts";

function gitDir(dir: string): void {
  mkdirSync(join(dir, "objects"), { recursive: true });
  mkdirSync(join(dir, "refs"), { recursive: true });
  mkdirSync(join(dir, "hooks"), { recursive: true });
  writeFileSync(join(dir, "HEAD"), "ref: refs/heads/main\n");
  writeFileSync(join(dir, "config"), "[core]\n");
}

describe("the surface rules", () => {
  test("only keys that name no program, file or driver are kept; an ext:: remote is dropped", () => {
    const list = parseConfigList(
      ["core.repositoryformatversion\n0", "core.fsmonitor\n/ws/x.sh", "core.hookspath\n/ws/h", "core.pager\nx", "core.sshcommand\nx", "filter.p.clean\nx", "diff.p.command\nx", "include.path\n/x", "remote.origin.url\nhttps://e.com/r.git", "remote.evil.url\next::sh -c x", "remote.origin.uploadpack\nx", "branch.main.remote\norigin", "user.name\nA \"quoted\" \\ name", "alias.st\n!sh"].join("\0") + "\0",
    );
    const kept = safeConfigEntries(list).map((e) => e.key);
    expect(kept).toEqual(["core.repositoryformatversion", "remote.origin.url", "branch.main.remote", "user.name"]);
    const text = configText(safeConfigEntries(list));
    expect(text).toContain('[remote "origin"]\n\turl = "https://e.com/r.git"');
    expect(text).toContain('name = "A \\"quoted\\" \\\\ name"');
  });

  test("a new repository keeps sample hooks and info/exclude, nothing else on its surface", () => {
    expect(keptInNewGitDir("hooks/pre-commit.sample", "file")).toBe(true);
    expect(keptInNewGitDir("hooks/pre-commit", "file")).toBe(false);
    expect(keptInNewGitDir("hooks/x.sample", "symlink")).toBe(false);
    expect(keptInNewGitDir("info/exclude", "file")).toBe(true);
    expect(keptInNewGitDir("info/attributes", "file")).toBe(false);
    expect(keptInNewGitDir("commondir", "file")).toBe(false);
  });

  test("a directory is a git directory with HEAD and objects and refs, or HEAD and commondir", () => {
    expect(looksLikeGitDir(new Set(["HEAD", "objects", "refs"]))).toBe(true);
    expect(looksLikeGitDir(new Set(["HEAD", "commondir"]))).toBe(true);
    expect(looksLikeGitDir(new Set(["HEAD", "objects"]))).toBe(false);
  });

  test("mounts: each git directory (submodules' too) bound onto itself, then its config and hooks read-only", () => {
    const m = guardMounts(
      [
        { rel: ".git", kind: "dotgit-dir" },
        { rel: ".git/modules/x", kind: "bare" },
        { rel: ".git/worktrees/w", kind: "bare" },
        { rel: "lib/.git", kind: "dotgit-file" },
        { rel: "odd/.git", kind: "dotgit-link" },
      ],
      (rel) => [".git/config", ".git/hooks"].includes(rel),
    );
    expect(m).toEqual([
      { rel: ".git", mode: "self" },
      { rel: ".git/config", mode: "ro" },
      { rel: ".git/hooks", mode: "ro" },
      { rel: "lib/.git", mode: "ro" },
      { rel: ".git/modules/x", mode: "self" },
    ]);
  });
});

describe("paths a repository's config names", () => {
  test("hooksPath, includes and the words of driver and alias commands that are paths, ~/ as the home; ~user, $VAR and plain words are not", () => {
    const entries = parseConfigList(
      ["core.hookspath\n.husky/_", "include.path\n../team.gitconfig", "includeif.gitdir:~/w/.path\n/abs/inc", "diff.conv.textconv\nsh scripts/conv.sh --flag", "filter.x.clean\ntr a b", "alias.up\n!./tools/up.sh", "alias.st\nstatus ./x/y", "core.fsmonitor\ntrue", "core.pager\n~/bin/pager", "core.editor\n~other/bin/ed", "gpg.program\n$HOME/bin/gpg", "user.name\na/b"].join("\0") + "\0",
    );
    // A workspace under the home is reached through ~/ as well (a repository's or the user's include.path).
    const home = process.env.HOME!;
    expect(namedPaths(entries, { configDir: "/ws/.git", worktree: "/ws" }).sort()).toEqual(["/abs/inc", join(home, "bin/pager"), "/ws/.husky/_", "/ws/scripts/conv.sh", "/ws/team.gitconfig", "/ws/tools/up.sh"].sort());
  });
});

describe("scanning a workspace", () => {
  test("finds nested, bare-looking, file and link repositories and their git directories, never through a symlink", () => {
    const ws = freshWorkspace({ "a.txt": "a" });
    gitDir(join(ws, ".git"));
    gitDir(join(ws, ".git", "modules", "lib", "inner"));
    mkdirSync(join(ws, ".git", "worktrees", "w1"), { recursive: true });
    writeFileSync(join(ws, ".git", "worktrees", "w1", "HEAD"), "ref: refs/heads/w\n");
    writeFileSync(join(ws, ".git", "worktrees", "w1", "commondir"), "../..\n");
    writeFileSync(join(ws, ".git", "hooks", "pre-commit"), "#!/bin/sh\n");
    gitDir(join(ws, "deep", "er", "nested", ".git"));
    gitDir(join(ws, "tools"));
    mkdirSync(join(ws, "pkg"));
    writeFileSync(join(ws, "pkg", ".git"), "gitdir: ../.git/modules/lib/inner\n");
    mkdirSync(join(ws, "linkdir"));
    symlinkSync("/tmp", join(ws, "linkdir", ".git"));
    const outside = freshWorkspace();
    gitDir(join(outside, "repo", ".git"));
    symlinkSync(join(outside, "repo"), join(ws, "via-link"));
    const s = scanWorkspace(ws);
    expect(s.gitDirs.map((d) => `${d.rel}:${d.kind}`).sort()).toEqual(
      [".git:dotgit-dir", ".git/modules/lib/inner:bare", ".git/worktrees/w1:bare", "deep/er/nested/.git:dotgit-dir", "linkdir/.git:dotgit-link", "pkg/.git:dotgit-file", "tools:bare"].sort(),
    );
    expect(s.entries.get(".git/hooks/pre-commit")?.type).toBe("file");
    expect(s.entries.get(".git/worktrees/w1/commondir")?.type).toBe("file");
    expect(s.entries.get("linkdir/.git")).toEqual({ type: "symlink", mode: expect.any(Number), target: "/tmp" });
    expect([...s.entries.keys()].some((k) => k.startsWith("via-link"))).toBe(false);
  });
});

describe("the host's own git config", () => {
  test("the files git reads follow GIT_CONFIG_GLOBAL, GIT_CONFIG_SYSTEM, GIT_CONFIG_NOSYSTEM and XDG_CONFIG_HOME", () => {
    expect(hostConfigFiles({ HOME: "/h" })).toEqual(["/etc/gitconfig", "/h/.gitconfig", "/h/.config/git/config"]);
    expect(hostConfigFiles({ HOME: "/h", XDG_CONFIG_HOME: "/x", GIT_CONFIG_NOSYSTEM: "1" })).toEqual(["/h/.gitconfig", "/x/git/config"]);
    expect(hostConfigFiles({ HOME: "/h", GIT_CONFIG_GLOBAL: "/g", GIT_CONFIG_SYSTEM: "/s", GIT_CONFIG_NOSYSTEM: "false" })).toEqual(["/s", "/g"]);
    expect(hostConfigFiles({ HOME: "/h", GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "true" })).toEqual([]);
  });

  test("scoped records keep their scope and file; a path is inside the workspace after following links", () => {
    expect(parseScopedList("global\0file:/h/.gitconfig\0core.hookspath\n.githooks\0command\0command line:\0a.b\0")).toEqual([
      { scope: "global", file: "/h/.gitconfig", key: "core.hookspath", value: ".githooks" },
      { scope: "command", key: "a.b", value: "true" },
    ]);
    const ws = freshWorkspace({ "gitconfig": "[user]\n" });
    const home = freshWorkspace();
    symlinkSync(join(ws, "gitconfig"), join(home, ".gitconfig"));
    symlinkSync(ws, join(home, "dots"));
    expect(insideWorkspace(ws, join(home, ".gitconfig"))).toBe("gitconfig");
    expect(insideWorkspace(ws, join(home, "dots", "not-yet", "inc"))).toBe("not-yet/inc");
    expect(insideWorkspace(ws, home)).toBeUndefined();
  });
});
