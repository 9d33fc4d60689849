/**
 * Reading a workspace's git state without running what the workspace planted. Each repository below
 * carries a plant that makes ordinary host git run a program (core.fsmonitor in .git/config, in a
 * commondir target, and a clean filter named from .gitattributes); the test first shows the plant is live
 * (plain `git status` / `git diff` runs it), then that bottle's reader gets the commit, branch, dirty flag
 * and diff stat right and runs nothing.
 */
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gitEnd, gitLocation, gitState, sameGitPlace } from "../../src/provenance/git-state.ts";
import { freshWorkspace } from "../helpers/bottles.ts";
import { gitWorkspace } from "./helpers.ts";

const git = (ws: string, ...a: string[]) => spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...a], { cwd: ws, encoding: "utf8" });

function markerDir(): string {
  return mkdtempSync(join(process.env.TMPDIR!, "marker-"));
}

test("state and diff of a plain repository: commit, branch, dirty, new and changed files", () => {
  const ws = gitWorkspace({ "a.txt": "one\n" });
  const start = gitState(ws)!;
  expect(start).toMatchObject({ branch: "main", dirty: false });
  expect(start.commit).toBe(git(ws, "rev-parse", "HEAD").stdout.trim());
  expect(start.tree).toBe(git(ws, "rev-parse", "HEAD^{tree}").stdout.trim());
  writeFileSync(join(ws, "a.txt"), "one\ntwo\n");
  git(ws, "commit", "-qam", "two");
  writeFileSync(join(ws, "new.txt"), "x\ny\n");
  const end = gitEnd(ws, start.commit)!;
  expect(end.state).toMatchObject({ branch: "main", dirty: true });
  expect(end.state.commit).not.toBe(start.commit);
  expect(end.diff).toEqual({ files: 2, insertions: 3, deletions: 0, changes: [{ path: "a.txt", insertions: 1, deletions: 0 }, { path: "new.txt", insertions: 2, deletions: 0 }] });
  // The workspace's own index is untouched (new.txt is still untracked there).
  expect(git(ws, "status", "--porcelain").stdout).toBe("?? new.txt\n");
  expect(gitState(freshWorkspace())).toBeNull();
});

test("a planted core.fsmonitor and clean filter run under plain git, never under bottle's reader", () => {
  const ws = gitWorkspace({ "a.txt": "one\n" });
  const m = markerDir();
  git(ws, "config", "core.fsmonitor", `touch ${m}/fsmonitor`);
  git(ws, "config", "filter.evil.clean", `touch ${m}/filter; cat`);
  writeFileSync(join(ws, ".gitattributes"), "* filter=evil\n");
  writeFileSync(join(ws, "a.txt"), "changed\n");
  const start = git(ws, "rev-parse", "HEAD").stdout.trim();
  gitState(ws);
  gitEnd(ws, start);
  expect(existsSync(join(m, "fsmonitor"))).toBe(false);
  expect(existsSync(join(m, "filter"))).toBe(false);
  // The plants are live.
  git(ws, "diff", "--stat");
  expect(existsSync(join(m, "fsmonitor"))).toBe(true);
  expect(existsSync(join(m, "filter"))).toBe(true);
});

test("config reached through commondir does not run either, and the branch is still read", () => {
  const ws = gitWorkspace({ "a.txt": "one\n" });
  const m = markerDir();
  const elsewhere = join(mkdtempSync(join(process.env.TMPDIR!, "common-")), "c");
  spawnSync("cp", ["-a", join(ws, ".git"), elsewhere]);
  writeFileSync(join(elsewhere, "config"), `[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tfsmonitor = touch ${m}/commondir\n`);
  writeFileSync(join(ws, ".git", "commondir"), `${elsewhere}\n`);
  const s = gitState(ws);
  expect(s?.branch).toBe("main");
  expect(existsSync(join(m, "commondir"))).toBe(false);
  git(ws, "status");
  expect(existsSync(join(m, "commondir"))).toBe(true);
  rmSync(elsewhere, { recursive: true, force: true });
});

test("a HEAD that is not a ref or a commit id is not copied into the record", () => {
  const ws = gitWorkspace();
  writeFileSync(join(ws, ".git", "HEAD"), "ref: ../../../etc/passwd\n");
  expect(gitState(ws)).toMatchObject({ branch: null, commit: null });
});

test("a .git pointed at another repository on the host by the end of the run is not read", () => {
  const ws = gitWorkspace();
  const start = gitLocation(ws);
  expect(sameGitPlace(ws, start)).toBe(true);
  const other = gitWorkspace({ "secret-plans.txt": "x\n" });
  rmSync(join(ws, ".git"), { recursive: true, force: true });
  writeFileSync(join(ws, ".git"), `gitdir: ${join(other, ".git")}\n`);
  expect(sameGitPlace(ws, start)).toBe(false);
  // A worktree whose git directory was outside from the start stays readable.
  expect(sameGitPlace(ws, gitLocation(ws))).toBe(true);
});
