/**
 * Per-run bottle state files: `$BOTTLE_HOME/runs/<id>/bottle.json`. They let `bottle ps`, resume and the
 * dashboard find bottles that another bottle process created, with no daemon. A record names the handle,
 * the host processes currently running in the bottle (pid + start time, so a reused pid is not mistaken
 * for ours) and the snapshot, if frozen. Writes go through a temp file and rename, so a reader never sees
 * half a record.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bottleHome, runDir } from "../paths.ts";
import { isAlive, readStat } from "./procs.ts";
import type { ActiveBottle, BottleHandle, BottleState, RunningProcess, Snapshot } from "./types.ts";

export interface TrackedProcess {
  pid: number;
  startTime: number;
}

export interface BottleRecord {
  version: 1;
  handle: BottleHandle;
  createdAt: number;
  processes: TrackedProcess[];
  snapshot?: Snapshot;
  /** Set by teardown. */
  tornDown?: boolean;
}

export const STATE_FILE = "bottle.json";

export function statePath(runId: string, home = bottleHome()): string {
  return join(runDir(runId, home), STATE_FILE);
}

export function writeRecord(rec: BottleRecord, home = bottleHome()): void {
  const p = statePath(rec.handle.runId, home);
  mkdirSync(join(p, ".."), { recursive: true });
  const tmp = `${p}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(rec, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, p);
}

export function readRecord(runId: string, home = bottleHome()): BottleRecord | undefined {
  const p = statePath(runId, home);
  if (!existsSync(p)) return undefined;
  try {
    const rec = JSON.parse(readFileSync(p, "utf8")) as BottleRecord;
    return rec.version === 1 && rec.handle?.runId === runId ? rec : undefined;
  } catch {
    return undefined;
  }
}

export function updateRecord(runId: string, f: (r: BottleRecord) => BottleRecord, home = bottleHome()): BottleRecord | undefined {
  const rec = readRecord(runId, home);
  if (!rec) return undefined;
  const next = f(rec);
  writeRecord(next, home);
  return next;
}

export function track(pid: number): TrackedProcess {
  return { pid, startTime: readStat(pid)?.startTime ?? 0 };
}

export function liveProcesses(rec: BottleRecord): TrackedProcess[] {
  return rec.processes.filter((p) => isAlive(p.pid, p.startTime));
}

/**
 * Records a process started in a bottle in the run's state file for as long as it lives, so `bottle ps`,
 * stop and teardown see it from any process. Both backends' `exec` go through here.
 */
export function trackInRecord(runId: string, proc: RunningProcess, home = bottleHome()): RunningProcess {
  const tracked = track(proc.pid);
  updateRecord(runId, (r) => ({ ...r, processes: [...liveProcesses(r), tracked] }), home);
  const exited = proc.exited.then((res) => {
    updateRecord(runId, (r) => ({ ...r, processes: r.processes.filter((p) => p.pid !== tracked.pid) }), home);
    return res;
  });
  return { pid: proc.pid, exited, kill: proc.kill };
}

/** running: a tracked process is alive; frozen: a snapshot waits for resume; stopped: neither. */
export function stateOf(rec: BottleRecord, live = liveProcesses(rec)): BottleState {
  if (!rec.tornDown && live.length > 0) return "running";
  if (rec.snapshot) return "frozen";
  return "stopped";
}

export function allRecords(home = bottleHome()): BottleRecord[] {
  const runs = join(home, "runs");
  if (!existsSync(runs)) return [];
  const out: BottleRecord[] = [];
  for (const id of readdirSync(runs)) {
    const rec = readRecord(id, home);
    if (rec) out.push(rec);
  }
  return out;
}

export function toActive(rec: BottleRecord, state: BottleState, pid?: number): ActiveBottle {
  const p = rec.handle.plan;
  return {
    runId: rec.handle.runId,
    label: p.label,
    agent: p.agent,
    provider: p.provider,
    backend: rec.handle.backend,
    state,
    createdAt: rec.createdAt,
    ...(pid !== undefined ? { pid } : {}),
  };
}
