/**
 * `--trailer`: the commits an agent made in a run name the run and its record, so a reviewer who finds
 * the commit in `git log` finds the record:
 *
 *   Bottle-Run: claude-20261129-210546-54c7
 *   Bottle-Record: sha256:6006f95c…
 *
 * The record is made first (it has to exist to be hashed), so it names the commits as the agent left
 * them; adding a trailer changes each commit's id but not its tree, and the record keeps the end tree to
 * match on. The commits from the run's start commit to HEAD (first parent) are written again with the
 * trailer — raw commit objects through `git hash-object`, in the scratch git dir of git-state.ts, so no
 * hook, filter or config of the workspace runs — and the branch (or a detached HEAD) is moved to the
 * last one. An agent's signature on a commit would no longer match, so it is dropped.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, realpathSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, sep } from "node:path";
import { HEX, withScratch } from "./git-state.ts";

export interface TrailerResult {
  /** The rewritten commits: old id → new id, oldest first. */
  commits: Array<{ from: string; to: string }>;
  head: string;
}

/** A message with the trailer lines added: to its trailer block when it ends with one, else as a new one. */
export function withTrailers(message: string, trailers: readonly string[]): string {
  const body = message.replace(/\s+$/, "");
  const last = body.split("\n\n").pop() ?? "";
  const isTrailerBlock = body.includes("\n\n") && last.split("\n").every((l) => /^[A-Za-z0-9-]+: /.test(l));
  return `${body}${isTrailerBlock ? "\n" : "\n\n"}${trailers.join("\n")}\n`;
}

function rewrite(raw: string, parents: Map<string, string>, trailers: readonly string[]): string {
  const split = raw.indexOf("\n\n");
  const header = split < 0 ? raw : raw.slice(0, split);
  const message = split < 0 ? "" : raw.slice(split + 2);
  const lines: string[] = [];
  let inSig = false;
  for (const line of header.split("\n")) {
    if (inSig && line.startsWith(" ")) continue;
    inSig = false;
    if (line.startsWith("gpgsig ") || line.startsWith("gpgsig-sha256 ")) {
      inSig = true;
      continue;
    }
    const p = /^parent ([0-9a-f]+)$/.exec(line);
    lines.push(p ? `parent ${parents.get(p[1]!) ?? p[1]}` : line);
  }
  return `${lines.join("\n")}\n\n${withTrailers(message, trailers)}`;
}

/** Adds `trailers` to every commit from `start` (exclusive) to HEAD; undefined when there is none. */
export function addTrailers(ws: string, start: string | null, trailers: readonly string[]): TrailerResult | undefined {
  return withScratch(ws, (s, head, dirs) => {
    if (!head.commit || head.commit === start) return undefined;
    // Only a git directory inside the workspace is written to: a planted gitdir or commondir elsewhere is not.
    const inside = (p: string) => (realpathSync(p) + sep).startsWith(realpathSync(ws) + sep);
    if (!inside(dirs.gitDir) || !inside(dirs.commonDir) || !inside(join(dirs.commonDir, "objects"))) return undefined;
    const range = s.git(["rev-list", "--reverse", "--first-parent", start ? `${start}..${head.commit}` : head.commit]);
    const ids = (range ?? "").split("\n").filter((l) => HEX.test(l));
    if (ids.length === 0) return undefined;
    s.objectsDir = join(dirs.commonDir, "objects");
    const map = new Map<string, string>();
    const commits: TrailerResult["commits"] = [];
    for (const id of ids) {
      const raw = s.git(["cat-file", "commit", id]);
      if (raw === undefined) return undefined;
      const to = s.git(["hash-object", "-t", "commit", "-w", "--stdin"], rewrite(raw, map, trailers))?.trim();
      if (!to || !HEX.test(to)) return undefined;
      map.set(id, to);
      commits.push({ from: id, to });
    }
    const last = commits[commits.length - 1]!.to;
    // Move the branch (a loose ref wins over packed-refs), or a detached HEAD, to the last new commit.
    const ref = head.branch ? join(dirs.commonDir, head.branch.startsWith("refs/") ? head.branch : join("refs", "heads", head.branch)) : join(dirs.gitDir, "HEAD");
    mkdirSync(dirname(ref), { recursive: true });
    if (!inside(dirname(ref))) return undefined;
    // A fresh name (O_EXCL: never through a planted link), renamed over the ref (which replaces a link).
    const tmp = `${ref}.bottle-${randomBytes(6).toString("hex")}`;
    writeFileSync(tmp, `${last}\n`, { flag: "wx" });
    renameSync(tmp, ref);
    return { commits, head: last };
  });
}
