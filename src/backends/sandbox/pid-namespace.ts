/**
 * Stopping a sandbox bottle at once, through its PID namespace. Every bwrap instance of a bottle runs its
 * processes in a PID namespace of its own (`--unshare-pid`). Signalling processes one by one races with
 * the bottle: a member can fork and exit between the walk that finds it and the signal (a fork chain), or
 * resume what was stopped (SIGCONT). Killing the namespace's init instead makes the kernel kill every member
 * of the namespace, nested namespaces included, and refuse any further fork into it: nothing can outrun
 * it. The namespace is then checked from /proc until no live process is left in it, so a freeze never
 * copies files while anything of the bottle still runs.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { isAlive, processTree } from "../procs.ts";

/** The PID namespace of a process, as /proc names it (`pid:[4026532…]`). */
export function pidNamespaceOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/** The process's pid in each namespace it belongs to, outermost first (/proc/<pid>/status NSpid). */
function nsPids(pid: number): number[] {
  try {
    const line = /^NSpid:\s+(.+)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return line ? line[1]!.trim().split(/\s+/).map(Number) : [];
  } catch {
    return [];
  }
}

/** The init (pid 1) of the namespace a bwrap process created: the first of its descendants that is pid 1 there. */
export function namespaceInit(root: number): number | undefined {
  const outer = pidNamespaceOf(root);
  for (const p of processTree(root)) {
    const chain = nsPids(p);
    if (chain.length > 1 && chain[chain.length - 1] === 1 && pidNamespaceOf(p) !== outer) return p;
  }
  return undefined;
}

/** Live processes in the namespace. */
export function namespaceMembers(ns: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pidNamespaceOf(pid) === ns && isAlive(pid)) out.push(pid);
  }
  return out;
}

function kill(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    /* already gone */
  }
}

export interface NamespaceTarget {
  root: number;
  init?: number;
  ns?: string;
  tree: number[];
}

/** What to kill for each bwrap root, found while the roots are alive (a graceful stop may end them first). */
export function namespaceTargets(roots: readonly number[]): NamespaceTarget[] {
  return roots.map((root) => {
    const init = namespaceInit(root);
    const ns = init ? pidNamespaceOf(init) : undefined;
    return { root, ...(init ? { init } : {}), ...(ns ? { ns } : {}), tree: processTree(root) };
  });
}

/**
 * Kills every process of the bottles rooted at `roots` (bwrap pids, or targets found earlier) and waits
 * until their namespaces are empty, up to `ms`. Returns the pids still alive (none on success).
 */
export async function killNamespaces(roots: readonly number[] | NamespaceTarget[], ms: number): Promise<number[]> {
  const targets = roots.length > 0 && typeof roots[0] === "number" ? namespaceTargets(roots as number[]) : (roots as NamespaceTarget[]);
  for (const t of targets) {
    if (t.init && isAlive(t.init)) kill(t.init);
    else for (const p of [...t.tree].reverse()) kill(p);
    kill(t.root);
  }
  const left = () => [...new Set(targets.flatMap((t) => [...(t.ns ? namespaceMembers(t.ns) : []), ...t.tree.filter((p) => isAlive(p))]))];
  const until = Date.now() + ms;
  let alive = left();
  while (alive.length > 0 && Date.now() < until) {
    for (const p of alive) kill(p);
    await Bun.sleep(20);
    alive = left();
  }
  return alive;
}
