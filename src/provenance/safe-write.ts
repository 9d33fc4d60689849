/**
 * Writing a file on the host at a path that may lie inside the workspace an agent just had. The agent can
 * leave a symbolic link where bottle is about to write (`provenance.json -> ~/.bashrc`, or a directory
 * link on the way), and a plain write follows it: the host's own file is overwritten by a process the
 * agent never ran. So a path that goes through a link inside the workspace is refused with the reason, and
 * the file itself is written beside its target under a fresh name (O_EXCL) and renamed over it: a rename
 * replaces a link, it never writes through one.
 */
import { lstatSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, resolve, sep } from "node:path";
import { ProvenanceError } from "../errors.ts";

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Throws when `path`, or a directory on its way down from `workspace`, is a symbolic link. */
export function refusePlantedLinks(path: string, workspace: string, what: string): void {
  const to = resolve(path);
  const ws = resolve(workspace);
  if (isLink(to)) throw new ProvenanceError(`${path} is a symbolic link (to be written: ${what})`, { file: to, fix: "remove the link, or pass a path outside the agent's workspace; the agent may have planted it" });
  if (!to.startsWith(ws + sep)) return;
  for (let d = dirname(to); d.startsWith(ws + sep); d = dirname(d)) {
    if (isLink(d)) throw new ProvenanceError(`${path} goes through a symbolic link, ${d}, in the agent's workspace (to be written: ${what})`, { file: to, fix: "pass a path outside the agent's workspace; the agent may have planted the link" });
  }
}

/** Writes `text` to `path` by a rename from a fresh file beside it, after refusing planted links. */
export function writeOverNoLink(path: string, text: string, workspace: string, what: string): string {
  refusePlantedLinks(path, workspace, what);
  const to = resolve(path);
  mkdirSync(dirname(to), { recursive: true });
  refusePlantedLinks(path, workspace, what);
  const tmp = `${to}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    writeFileSync(tmp, text, { flag: "wx", mode: 0o644 });
    renameSync(tmp, to);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  return to;
}
