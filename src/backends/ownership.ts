/**
 * Lending a directory tree to the agent's uid, and taking it back. When bottle runs as root the agent is an
 * unprivileged uid that owns nothing (AGENT_HOST_ID, in both backends: sandbox/args.ts, docker/args.ts),
 * so the two trees it is given, the run home and the workspace, are lent to it: every entry root owns becomes the agent's for the run, and afterwards every
 * entry the agent owns (its edits and new files) goes back to root. Sockets and fifos are never lent:
 * owning one would let the agent reach the host service behind it. Only ownership moves, never modes, and
 * symlinks are changed themselves, never followed. Files of other users in the tree are left alone: the
 * agent cannot change them, as with any ordinary launcher.
 */
import { existsSync, lchownSync, lstatSync, readdirSync } from "node:fs";
import { isAbsolute, join, relative, sep } from "node:path";
import { AGENT_HOST_ID } from "./sandbox/args.ts";
import type { BottleHandle } from "./types.ts";

export const ROOT = { uid: 0, gid: 0 };
/** The agent's host uid/gid when bottle runs as root. */
export const AGENT_ID = { uid: AGENT_HOST_ID, gid: AGENT_HOST_ID };

/**
 * Gives every entry owned by `from` (uid) to `to` (uid and, for entries in `from`'s group, gid too). Trees
 * in `except` are skipped whole: a BOTTLE_HOME inside a workspace (its CA key) is never lent.
 */
export function lendTree(root: string, from: { uid: number; gid: number }, to: { uid: number; gid: number }, except: string[] = []): number {
  let changed = 0;
  const skip = new Set(except);
  const visit = (p: string): void => {
    if (skip.has(p)) return;
    let st;
    try {
      st = lstatSync(p);
    } catch {
      return;
    }
    // A socket is never lent: owning it would let the agent connect to the host service behind it.
    if (st.uid === from.uid && !st.isSocket() && !st.isFIFO()) {
      lchownSync(p, to.uid, st.gid === from.gid ? to.gid : st.gid);
      changed++;
    }
    if (!st.isDirectory()) return;
    let names: string[] = [];
    try {
      names = readdirSync(p);
    } catch {
      return;
    }
    for (const n of names) visit(join(p, n));
  };
  visit(root);
  return changed;
}

/** Lends `target`'s tree and every directory between `base` and it (a copy creates those as root). */
export function lendPath(base: string, target: string, from: { uid: number; gid: number }, to: { uid: number; gid: number }): void {
  const rel = relative(base, target);
  if (rel.startsWith("..") || isAbsolute(rel)) return;
  let dir = base;
  for (const part of rel.split(sep).slice(0, -1)) {
    dir = join(dir, part);
    const st = lstatSync(dir);
    if (st.uid === from.uid && !st.isSymbolicLink()) lchownSync(dir, to.uid, st.gid === from.gid ? to.gid : st.gid);
  }
  lendTree(target, from, to);
}

/**
 * Root launcher: the agent's uid gets the run home and the workspace for the bottle's life (a no-op for an
 * ordinary launcher, whose agent is the launcher). The running BOTTLE_HOME is never lent, even inside a
 * bind-mounted workspace.
 */
export function lendRun(handle: BottleHandle, bottleHome: string, agent: { uid: number; gid: number }): void {
  if (process.getuid?.() !== 0 || agent.uid === 0) return;
  lendTree(handle.hostHome, ROOT, agent);
  lendTree(handle.hostWorkspace, ROOT, agent, handle.plan.workspace === "copy" ? [] : [bottleHome]);
}

/** Everything the agent's uid owns in home and workspace goes back to root (a no-op for ordinary users). */
export function takeBackRun(handle: BottleHandle, bottleHome: string): void {
  if (process.getuid?.() !== 0) return;
  for (const tree of [handle.hostHome, handle.hostWorkspace]) if (existsSync(tree)) lendTree(tree, AGENT_ID, ROOT, tree === handle.hostHome ? [] : [bottleHome]);
}
