/**
 * Host process bookkeeping through /proc (Linux). A bottle's processes are exactly the descendants of the
 * process bottle spawned for it (orphans inside a pid namespace are re-parented to the namespace's init,
 * which is itself a descendant), so walking the parent links finds all of them without cgroups or root.
 * Start times guard against pid reuse when a state file outlives its process.
 */
import { readdirSync, readFileSync } from "node:fs";

interface ProcStat {
  pid: number;
  ppid: number;
  state: string;
  startTime: number;
}

/** Parses /proc/<pid>/stat; the command name may contain spaces and parentheses, so split after the last ')'. */
export function parseStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  const pid = Number(text.slice(0, text.indexOf(" ")));
  const rest = text.slice(close + 2).split(" ");
  const ppid = Number(rest[1]);
  const startTime = Number(rest[19]);
  if (!Number.isFinite(pid) || !Number.isFinite(ppid)) return undefined;
  return { pid, ppid, state: rest[0] ?? "?", startTime };
}

export function readStat(pid: number): ProcStat | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

function allStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) out.push(s);
  }
  return out;
}

/** pid and every live descendant of it, parents first. */
export function processTree(root: number): number[] {
  const stats = allStats();
  const children = new Map<number, number[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s.pid]);
  if (!stats.some((s) => s.pid === root)) return [];
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return out;
}

/** true when pid is alive (not a zombie) and, if given, started at startTime. */
export function isAlive(pid: number, startTime?: number): boolean {
  const s = readStat(pid);
  if (!s || s.state === "Z" || s.state === "X") return false;
  return startTime === undefined || s.startTime === startTime;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/** Signals every process of a tree, children first so that no parent reaps-and-respawns in between. */
export function signalTree(root: number, sig: NodeJS.Signals): void {
  for (const p of processTree(root).reverse()) signal(p, sig);
}

/** Waits (polling /proc) until none of the pids is alive, up to `ms`. Returns the ones still alive. */
export async function waitGone(pids: number[], ms: number): Promise<number[]> {
  const until = Date.now() + ms;
  let alive = pids.filter((p) => isAlive(p));
  while (alive.length > 0 && Date.now() < until) {
    await Bun.sleep(20);
    alive = alive.filter((p) => isAlive(p));
  }
  return alive;
}
