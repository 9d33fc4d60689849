/**
 * After a docker bottle's processes are gone, no file the agent made set-user-ID or set-group-ID stays
 * so. Docker's default seccomp profile lets the agent chmod 4755 a file in the workspace, which then keeps
 * the launcher's uid on the host: any other local user who can reach it runs it as the launcher. (The
 * sandbox refuses those modes outright: sandbox/seccomp.ts.) Replacing docker's profile with bottle's own
 * would drop its other rules, so instead every regular file under the run's trees whose set-id bits were
 * set during the run (its ctime is not older than the bottle) loses them, and each is reported. A file
 * that was set-id before the run and not touched keeps its bits. Symlinks are never followed.
 */
import { chmodSync, lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";

export interface SetIdCleared {
  path: string;
  /** The mode it had (octal digits). */
  was: string;
}

/** Clears S_ISUID/S_ISGID of regular files under `roots` changed at or after `since` (ms since the epoch). */
export function clearNewSetIdBits(roots: readonly string[], since: number): SetIdCleared[] {
  const out: SetIdCleared[] = [];
  const visit = (p: string): void => {
    let st;
    try {
      st = lstatSync(p);
    } catch {
      return;
    }
    if (st.isFile() && (st.mode & 0o6000) !== 0 && st.ctimeMs >= since) {
      chmodSync(p, st.mode & 0o1777);
      out.push({ path: p, was: (st.mode & 0o7777).toString(8) });
      return;
    }
    if (!st.isDirectory()) return;
    let names: string[];
    try {
      names = readdirSync(p);
    } catch {
      return;
    }
    for (const n of names) visit(join(p, n));
  };
  for (const r of roots) visit(r);
  return out;
}
