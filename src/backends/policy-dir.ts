/**
 * `./.bottle` in a workspace is read as policy on later runs (a repository's agents), so nothing an agent
 * does inside a bottle may create or change it. The backends mount the workspace's protected paths
 * read-only, but a mount needs something to cover: when `.bottle` did not exist at launch, an agent could
 * create `.bottle/agents/<itself>.md` in the bind-mounted directory and govern its own next run. So before a
 * bottle starts, bottle creates the empty directory itself (as the invoking user, on the host), and the
 * bottle only ever sees it read-only. An empty `.bottle/` is therefore left in a directory a bottle ran in.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { BackendError } from "../errors.ts";

export const POLICY_DIR = ".bottle";

/** Makes sure `<workspace>/.bottle` exists, so the read-only mount over it always happens. */
export function guardPolicyDir(hostWorkspace: string): void {
  const dir = join(hostWorkspace, POLICY_DIR);
  if (existsSync(dir)) return;
  try {
    mkdirSync(dir);
  } catch (e) {
    throw new BackendError(`cannot create ${dir} to keep it read-only inside the bottle: ${(e as Error).message}`, {
      key: "cwd",
      fix: "make the directory writable for you, or create an empty .bottle directory in it",
    });
  }
}
