/**
 * The sandbox's process limit (../process-limit.ts), and which mechanism enforces it:
 *   - `cgroup`: bottle is root and the pids controller is mounted (cgroup v1 at /sys/fs/cgroup/pids, or v2
 *     at /sys/fs/cgroup with pids among its controllers). Each bottle gets `bottle-<run id>` with pids.max
 *     set, and bwrap joins it before it execs (joinArgv), so every process of the bottle is counted from
 *     the first one. Removed at teardown and freeze.
 *   - `rlimit`: an ordinary user (no cgroup it may create) or root without a pids controller: `prlimit
 *     --nproc` sets RLIMIT_NPROC, soft and hard, on the bridge and so on the agent. The agent has no
 *     CAP_SYS_RESOURCE in the host's user namespace, so it cannot raise it. The kernel counts RLIMIT_NPROC
 *     per user namespace and uid: an ordinary user's bottle has a user namespace of its own, so the count
 *     is that bottle's processes. Root's agents share the host uid AGENT_HOST_ID and no user namespace, so
 *     under root without a cgroup the limit is shared by all root's bottles (said by describe()).
 * bwrap itself makes no cgroups, and the bottle never runs unlimited: if neither is possible the exec
 * fails with the cause.
 */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BackendError } from "../../errors.ts";
import type { AgentIdentity } from "./args.ts";

export type PidsLimit =
  | { kind: "cgroup"; max: number; root: string; version: 1 | 2 }
  | { kind: "rlimit"; max: number; prlimit: string; shared: boolean };

/** Where a pids controller bottle may create groups in, or undefined. Pure over the files it is given. */
export function pidsControllerRoot(read: (path: string) => string | undefined): { root: string; version: 1 | 2 } | undefined {
  const mounts = read("/proc/self/mounts") ?? "";
  for (const line of mounts.split("\n")) {
    const [, dir, type, opts] = line.split(" ");
    if (type === "cgroup" && dir && opts?.split(",").includes("pids")) return { root: dir, version: 1 };
  }
  for (const line of mounts.split("\n")) {
    const [, dir, type] = line.split(" ");
    if (type === "cgroup2" && dir && (read(join(dir, "cgroup.controllers")) ?? "").split(/\s+/).includes("pids")) return { root: dir, version: 2 };
  }
  return undefined;
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function writableDir(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The mechanism that enforces `max` for an agent of this identity on this host. A pids hierarchy root
 * cannot write to (mounted read-only, as in many containers) means the rlimit.
 */
export function pidsLimitFor(identity: AgentIdentity, max: number, read: (path: string) => string | undefined = readOrUndefined, writable: (dir: string) => boolean = writableDir): PidsLimit {
  if (identity.kind === "drop") {
    const c = pidsControllerRoot(read);
    if (c && writable(c.root)) return { kind: "cgroup", max, ...c };
  }
  const prlimit = Bun.which("prlimit", { PATH: "/usr/bin:/bin:/usr/sbin:/sbin" });
  if (!prlimit) {
    throw new BackendError(`the sandbox limits a bottle to ${max} processes, and with no pids cgroup bottle can create here that needs prlimit, which is not installed`, {
      key: "prlimit",
      fix: "install util-linux (apt-get install util-linux), or run bottle as root on a host with the pids cgroup controller",
    });
  }
  return { kind: "rlimit", max, prlimit, shared: identity.kind === "drop" };
}

/** One line for diagnostics: which limit applies and how. */
export function describePidsLimit(l: PidsLimit): string {
  if (l.kind === "cgroup") return `${l.max} processes per bottle (pids cgroup v${l.version} under ${l.root})`;
  return l.shared
    ? `${l.max} processes for all of root's sandbox bottles together (RLIMIT_NPROC of the agent uid; no pids cgroup here)`
    : `${l.max} processes per bottle (RLIMIT_NPROC in the bottle's user namespace)`;
}

/** The argv prefix that applies an `rlimit` limit to the command after it (inside the bottle). */
export function rlimitPrefix(l: PidsLimit): string[] {
  return l.kind === "rlimit" ? [l.prlimit, `--nproc=${l.max}:${l.max}`, "--"] : [];
}

export function cgroupDir(l: { root: string }, runId: string): string {
  return join(l.root, `bottle-${runId}`);
}

/** Creates (or keeps) the bottle's pids cgroup with its limit; returns its directory. Fails closed. */
export function ensureCgroup(l: Extract<PidsLimit, { kind: "cgroup" }>, runId: string): string {
  const dir = cgroupDir(l, runId);
  try {
    if (l.version === 2) {
      const ctl = join(l.root, "cgroup.subtree_control");
      if (!(readOrUndefined(ctl) ?? "").split(/\s+/).includes("pids")) writeFileSync(ctl, "+pids");
    }
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "pids.max"), String(l.max));
  } catch (e) {
    throw new BackendError(`could not set up the pids cgroup ${dir} that limits the bottle to ${l.max} processes: ${(e as Error).message}`, {
      key: "cgroup",
      fix: "check that the pids cgroup controller is mounted read-write for root, or run bottle as an ordinary user",
    });
  }
  return dir;
}

/** argv that moves itself into the cgroup, then execs `argv` (same pid, descriptors kept). */
export function joinArgv(dir: string, argv: string[]): string[] {
  return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', join(dir, "cgroup.procs"), ...argv];
}

/**
 * Removes the bottle's cgroup, if root made one, once it is empty (the kernel reaps a killed namespace
 * asynchronously). Depends on nothing that could fail at teardown (the agent identity, prlimit).
 */
export async function removeCgroup(runId: string, read: (path: string) => string | undefined = readOrUndefined): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const c = pidsControllerRoot(read);
  if (!c) return;
  const dir = cgroupDir(c, runId);
  for (let i = 0; existsSync(dir); i++) {
    try {
      rmdirSync(dir);
      return;
    } catch (e) {
      if (i >= 100) throw new BackendError(`could not remove the pids cgroup ${dir}: ${(e as Error).message}`, { fix: `kill the processes listed in ${dir}/cgroup.procs, then rmdir ${dir}` });
      await Bun.sleep(50);
    }
  }
}
