/**
 * git-guard: nothing the agent leaves in a bind-mounted workspace makes the host's git run its code
 * (DESIGN §6a.4). Before the bottle starts, the files git would create a surface from are put in place
 * (placeholders.ts), the workspace's git surface is recorded and the mounts that freeze it are computed
 * (both backends apply them); after the bottle's processes are gone (teardown,
 * freeze), whatever changed is restored and each change is reported as a warning. A copied workspace is
 * not the user's directory, so it is left alone.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { log } from "../../log.ts";
import type { BottleHandle, BottlePlan } from "../types.ts";
import { guardMounts, type GuardMount } from "./mounts.ts";
import { placePlaceholders, removePlaceholders } from "./placeholders.ts";
import { guardDir, recordSurface } from "./record.ts";
import { restoreSurface, type GuardFinding } from "./restore.ts";

export type { GuardMount } from "./mounts.ts";

/** Records the surface of a bind-mode workspace; returns the mounts that protect it during the run. */
export function guardBefore(plan: BottlePlan, home: string, ws: string): GuardMount[] | undefined {
  if (plan.workspace === "copy") return undefined;
  let scan = recordSurface(plan.runId, home, ws);
  if (placePlaceholders(ws, scan.gitDirs, guardDir(plan.runId, home)).length > 0) scan = recordSurface(plan.runId, home, ws);
  return guardMounts(scan.gitDirs, (rel) => existsSync(join(ws, rel)), scan.extraRoots);
}

/**
 * Restores the surface after the bottle's processes are gone, and says what it changed. A check that
 * cannot finish (an unreadable directory, a full disk) does not stop the teardown: it says, as an error,
 * that the workspace's git files are unchecked, so the person knows not to run git there yet.
 */
export function guardAfter(handle: BottleHandle, home: string): GuardFinding[] {
  if (handle.plan.workspace === "copy") return [];
  let findings: GuardFinding[];
  try {
    findings = restoreSurface(handle.runId, home, handle.hostWorkspace).findings;
    removePlaceholders(handle.hostWorkspace, guardDir(handle.runId, home));
  } catch (e) {
    log.error(
      `run ${handle.runId}: git-guard could not check the git files in ${handle.hostWorkspace} (${(e as Error).message}); before you run git there, check every .git directory's config, hooks, commondir and config.worktree, or run \`bottle stop ${handle.runId}\` again once the cause is fixed`,
    );
    return [];
  }
  for (const f of findings) log.warn(`run ${handle.runId}: git-guard: ${join(handle.hostWorkspace, f.path)} ${f.what}`);
  return findings;
}
