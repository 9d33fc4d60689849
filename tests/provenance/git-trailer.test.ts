/**
 * `--trailer` on a real repository: the commits made after the run's start commit are written again with
 * `Bottle-Run` and `Bottle-Record` trailers (same trees, same authors, parents chained to the new
 * commits, an existing trailer block extended rather than doubled), the branch moves to the last one,
 * commits before the start are untouched, and a repository whose git directory lies outside the
 * workspace is left alone.
 */
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { addTrailers, withTrailers } from "../../src/provenance/git-trailer.ts";
import { gitWorkspace } from "./helpers.ts";

const git = (ws: string, ...a: string[]) => spawnSync("git", ["-c", "user.name=agent", "-c", "user.email=agent@example.com", ...a], { cwd: ws, encoding: "utf8" }).stdout.trim();

test("trailers are appended as a block of their own, or to the message's trailer block", () => {
  expect(withTrailers("fix it\n", ["A: 1"])).toBe("fix it\n\nA: 1\n");
  expect(withTrailers("fix it\n\nbody text\n\nSigned-off-by: x <x@y>\n", ["A: 1"])).toBe("fix it\n\nbody text\n\nSigned-off-by: x <x@y>\nA: 1\n");
});

test("the run's commits carry the trailers; trees, authors and earlier history are unchanged", () => {
  const ws = gitWorkspace({ "a.txt": "one\n" });
  const start = git(ws, "rev-parse", "HEAD");
  writeFileSync(join(ws, "a.txt"), "two\n");
  git(ws, "commit", "-qam", "second");
  writeFileSync(join(ws, "b.txt"), "b\n");
  git(ws, "add", "b.txt");
  git(ws, "commit", "-qm", "third\n\nwith a body\n\nSigned-off-by: agent <agent@example.com>");
  const before = git(ws, "log", "--format=%H %T %an", `${start}..HEAD`).split("\n");
  const t = addTrailers(ws, start, ["Bottle-Run: r-1", "Bottle-Record: sha256:abc"])!;
  expect(t.commits.map((c) => c.from)).toEqual(before.map((l) => l.split(" ")[0]!).reverse());
  expect(git(ws, "rev-parse", "HEAD")).toBe(t.head);
  expect(git(ws, "rev-parse", "main")).toBe(t.head);
  const after = git(ws, "log", "--format=%H %T %an", `${start}..HEAD`).split("\n");
  expect(after.map((l) => l.split(" ").slice(1).join(" "))).toEqual(before.map((l) => l.split(" ").slice(1).join(" ")));
  expect(git(ws, "log", "--format=%(trailers:key=Bottle-Run,valueonly)%(trailers:key=Bottle-Record,valueonly)", `${start}..HEAD`).split("\n").filter((l) => l !== "")).toEqual(["r-1", "sha256:abc", "r-1", "sha256:abc"]);
  expect(git(ws, "log", "-1", "--format=%B")).toBe("third\n\nwith a body\n\nSigned-off-by: agent <agent@example.com>\nBottle-Run: r-1\nBottle-Record: sha256:abc");
  expect(git(ws, "rev-parse", "HEAD~2")).toBe(start);
  expect(git(ws, "fsck", "--no-progress")).toBe("");
  // Nothing after the start: nothing to do.
  expect(addTrailers(ws, t.head, ["X: y"])).toBeUndefined();
});

test("a git directory outside the workspace (a planted gitdir) is not written to", () => {
  const repo = gitWorkspace({ "a.txt": "one\n" });
  const start = git(repo, "rev-parse", "HEAD");
  writeFileSync(join(repo, "a.txt"), "two\n");
  git(repo, "commit", "-qam", "second");
  const ws = gitWorkspace();
  writeFileSync(join(ws, ".git-pointer"), "");
  spawnSync("rm", ["-rf", join(ws, ".git")]);
  writeFileSync(join(ws, ".git"), `gitdir: ${join(repo, ".git")}\n`);
  const head = git(repo, "rev-parse", "HEAD");
  expect(addTrailers(ws, start, ["Bottle-Run: r-2"])).toBeUndefined();
  expect(git(repo, "rev-parse", "HEAD")).toBe(head);
});
