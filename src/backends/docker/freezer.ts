/**
 * `docker pause` without the hang. Pausing freezes the container's cgroup. If a `docker exec` is being set
 * up at that moment, its `runc init` is frozen half way, and Docker 20.10 (Debian's docker.io) then waits
 * for it forever: every later call for that container hangs, and the container stays FROZEN. So bottle
 * waits until no `runc init` is in the container before pausing, checks again once it is paused, and if
 * one slipped in, thaws the cgroup itself (the only thing that unsticks the engine), lets the exec finish
 * and freezes the cgroup again (docker still records the container as paused, so its unpause later
 * works as usual). Both checks read the cgroup and /proc directly: they must work while the engine hangs.
 * The engine is local (bottle bind-mounts host paths), so its cgroups are this host's.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface FreezerCgroup {
  /** The cgroup directory holding the container's processes. */
  dir: string;
  /** The file that freezes and thaws it, and the values that do each. */
  control: string;
  thawed: string;
  frozen: string;
}

/** The freezer cgroup of the process `pid` (a container's init): cgroup v1's freezer hierarchy, or v2. */
export function freezerOf(pid: number, root = "/sys/fs/cgroup"): FreezerCgroup | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    const [, controllers, path] = line.split(":");
    if (path === undefined) continue;
    if (controllers!.split(",").includes("freezer")) {
      const dir = join(root, "freezer", path);
      if (existsSync(join(dir, "freezer.state"))) return { dir, control: join(dir, "freezer.state"), thawed: "THAWED", frozen: "FROZEN" };
    }
  }
  const v2 = text.split("\n").find((l) => l.startsWith("0::"))?.slice(3);
  if (v2 !== undefined && existsSync(join(root, v2, "cgroup.freeze"))) return { dir: join(root, v2), control: join(root, v2, "cgroup.freeze"), thawed: "0", frozen: "1" };
  return undefined;
}

/** Pids of the processes in the cgroup. */
export function procsIn(cg: FreezerCgroup): number[] {
  try {
    return readFileSync(join(cg.dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function isRuncInit(pid: number): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return /(^|\/)runc$/.test(argv[0] ?? "") && argv[1] === "init";
  } catch {
    return false;
  }
}

/** Pids in the cgroup that are a `runc init`: an exec (or the start) still being set up. */
export function runcInits(cg: FreezerCgroup): number[] {
  return procsIn(cg).filter(isRuncInit);
}

/**
 * Waits (bounded) until an exec started after `before` was listed has its process running in the cgroup
 * (a new pid that is no longer `runc init`), or `done` resolves (the exec ended, or failed to start).
 */
export async function execStarted(cg: FreezerCgroup, before: ReadonlySet<number>, done: Promise<unknown>, timeoutMs = 30_000): Promise<void> {
  let over = false;
  void done.then(
    () => (over = true),
    () => (over = true),
  );
  const deadline = Date.now() + timeoutMs;
  while (!over && Date.now() < deadline) {
    if (procsIn(cg).some((pid) => !before.has(pid) && !isRuncInit(pid))) return;
    await Bun.sleep(10);
  }
}

/** Thaws (or freezes) the cgroup directly; false when this process may not (not root). */
export function thaw(cg: FreezerCgroup, to: "thawed" | "frozen" = "thawed"): boolean {
  try {
    writeFileSync(cg.control, to === "thawed" ? cg.thawed : cg.frozen);
    return true;
  } catch {
    return false;
  }
}

/** Waits (bounded) until no exec is being set up in the cgroup; returns whether none is. */
export async function settled(cg: FreezerCgroup, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (runcInits(cg).length > 0) {
    if (Date.now() > deadline) return false;
    await Bun.sleep(10);
  }
  return true;
}
