/**
 * Run labels are how people tell bottles apart in `bottle ps` and the dashboard, so two live bottles never
 * share one: the wanted label (default the agent name) gets `-2`, `-3`, … when a running or frozen bottle
 * already has it. Labels are compared by slug — case folded, and `.` and `_` read as `-` — because people
 * type them back (`bottle logs Nightly`, `bottle stop my_run`) and two labels that only differ in case
 * would be told apart by nobody. `uniqueLabel` is pure; `registerLabelled` runs it inside the ledger
 * transaction that registers the run, so concurrent launches, in any number of processes, cannot pick the
 * same label (a label picked from `bottle ps` before registering was seen to give four runs one label).
 */
import { hostName } from "../host-name.ts";
import { pidAlive } from "../enforce/run-control.ts";
import { claimRun, type LedgerDb, type NewRun, type RunInfo } from "../ledger/index.ts";

/** The form two labels are compared in. */
export function labelSlug(label: string): string {
  return label.toLowerCase().replace(/[._]/g, "-");
}

export function uniqueLabel(wanted: string, taken: Iterable<string>): string {
  const used = new Set([...taken].map(labelSlug));
  if (!used.has(labelSlug(wanted))) return wanted;
  for (let n = 2; ; n++) {
    const candidate = `${wanted}-${n}`;
    if (!used.has(labelSlug(candidate))) return candidate;
  }
}

/**
 * Whether a run that the ledger lists as running or frozen still holds its label: a frozen run does (it
 * comes back under it); a running one unless its owner was a process on this host that is gone (a crash
 * that never ended its row must not take the label forever). A run owned on another host is believed.
 */
export function holdsLabel(run: Pick<RunInfo, "state" | "host" | "pid">, here = hostName(), alive: (pid: number) => boolean = pidAlive): boolean {
  if (run.state === "frozen") return true;
  if (run.state !== "running") return false;
  return !(run.host === here && run.pid !== null && !alive(run.pid));
}

/**
 * Registers `run` under `wanted`, or the first free `wanted-N`, atomically; returns the label it got.
 * `alsoTaken`: labels of live bottles the backends list (a bottle whose run the ledger does not hold).
 */
export function registerLabelled(db: LedgerDb, run: Omit<NewRun, "label">, wanted: string, alsoTaken: readonly string[] = []): Promise<string> {
  return claimRun(db, run, (live) => uniqueLabel(wanted, [...alsoTaken, ...live.filter((r) => holdsLabel(r)).map((r) => r.label)]));
}
