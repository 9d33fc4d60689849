/**
 * File helpers shared by the backends: copying trees into a bottle's host-side directories (never through
 * a shell), mapping an inside path to the host directory that backs it, and checking run ids before they
 * become path components.
 */
import { cpSync, lstatSync } from "node:fs";
import { isAbsolute, join, normalize, relative } from "node:path";
import { BackendError } from "../errors.ts";
import { INSIDE, type BottleHandle } from "./types.ts";

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function validateRunId(id: string): void {
  if (!RUN_ID.test(id) || id.includes("..")) {
    throw new BackendError(`invalid run id ${JSON.stringify(id)}`, { key: "runId", fix: "run ids are letters, digits, '.', '_' and '-'" });
  }
}

/**
 * Recursive copy that keeps symlinks as links and skips sockets, fifos and devices (they cannot be copied
 * and an agent's home often holds a stale socket).
 */
export function copyTree(from: string, to: string): void {
  cpSync(from, to, {
    recursive: true,
    force: true,
    preserveTimestamps: true,
    verbatimSymlinks: true,
    filter: (src) => {
      const st = lstatSync(src);
      return st.isFile() || st.isDirectory() || st.isSymbolicLink();
    },
  });
}

function within(base: string, p: string): string | undefined {
  const rel = relative(base, p);
  if (rel === "") return "";
  if (rel.startsWith("..") || isAbsolute(rel)) return undefined;
  return rel;
}

/** The host path behind an inside path; only the home and the workspace are writable, so only they map. */
export function insideToHost(handle: BottleHandle, insidePath: string): string {
  const p = normalize(insidePath);
  if (!isAbsolute(p)) throw new BackendError(`inside path ${JSON.stringify(insidePath)} must be absolute`, { fix: `use a path under ${INSIDE.home} or the workspace` });
  const inHome = within(INSIDE.home, p);
  if (inHome !== undefined) return join(handle.hostHome, inHome);
  const inWs = within(handle.workspace, p);
  if (inWs !== undefined) return join(handle.hostWorkspace, inWs);
  throw new BackendError(`cannot copy into ${insidePath}: only the home and the workspace are writable`, { fix: `use a path under ${INSIDE.home} or ${handle.workspace}` });
}
