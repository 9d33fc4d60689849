/**
 * The seam through which enforcement stops a bottle. `freeze` snapshots the run's state and stops it so that
 * `bottle resume` can continue it; `kill` tears it down without saving. Backends (docker: commit + stop;
 * sandbox: signals to the bwrap process group) implement this; enforcement only ever calls it.
 *
 * ProcessRunControl is the implementation for a run that is a local process group: freeze writes
 * runs/<id>/frozen.json (pid, time, reason) and sends SIGSTOP to the group, resume sends SIGCONT, kill
 * sends SIGKILL, stop sends SIGTERM and SIGKILL after a grace period. It is what the sandbox backend needs and what tests use with a real child process.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BackendError } from "../errors.ts";
import { runDir } from "../paths.ts";

export interface RunControl {
  /** Snapshot the run's state, then stop it; resumable. */
  freeze(runId: string, reason: string): Promise<void>;
  /** Tear the run down without saving. */
  kill(runId: string, reason: string): Promise<void>;
  /** A clean teardown the user asked for (`bottle stop`): ask the processes to end, then make sure. */
  stop?(runId: string, reason: string): Promise<void>;
  /** Continue a frozen run, when the backend can do it in place. */
  resume?(runId: string): Promise<void>;
}

export interface FrozenState {
  runId: string;
  pid: number;
  frozenAt: string;
  reason: string;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig); // the whole process group, when the run leads one
  } catch {
    try {
      process.kill(pid, sig);
    } catch (e) {
      throw new BackendError(`cannot send ${sig} to run process ${pid}: ${String(e)}`, { fix: "check that the run is still alive (`bottle ps`)." });
    }
  }
}

export class ProcessRunControl implements RunControl {
  constructor(
    private readonly pidOf: (runId: string) => number | undefined,
    private readonly home?: string,
  ) {}

  private pid(runId: string): number {
    const pid = this.pidOf(runId);
    if (!pid) throw new BackendError(`run ${runId} has no live process`, { fix: "the run has already ended." });
    return pid;
  }

  async freeze(runId: string, reason: string): Promise<void> {
    const pid = this.pid(runId);
    const dir = runDir(runId, this.home);
    mkdirSync(dir, { recursive: true });
    const state: FrozenState = { runId, pid, frozenAt: new Date().toISOString(), reason };
    writeFileSync(join(dir, "frozen.json"), `${JSON.stringify(state, null, 2)}\n`);
    signal(pid, "SIGSTOP");
  }

  async kill(runId: string, _reason: string): Promise<void> {
    signal(this.pid(runId), "SIGKILL");
  }

  /** SIGTERM to the group, then SIGKILL if it is still there after `graceMs`. */
  async stop(runId: string, _reason: string, graceMs = 3000): Promise<void> {
    const pid = this.pid(runId);
    signal(pid, "SIGTERM");
    const deadline = Date.now() + graceMs;
    while (pidAlive(pid) && Date.now() < deadline) await Bun.sleep(20);
    if (pidAlive(pid)) signal(pid, "SIGKILL");
  }

  async resume(runId: string): Promise<void> {
    signal(this.pid(runId), "SIGCONT");
  }
}

/** True when a process with this pid exists (used to find runs that crashed). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
