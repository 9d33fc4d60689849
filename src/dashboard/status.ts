/**
 * A run's status as a person reads it. The runs table knows running, frozen and ended; whether a running run
 * is cut off lives in its latest control action (the same rule admission applies), and a run whose owning
 * process died without ending it is over in all but its row. Pure.
 */
import type { EnforcementActionRow } from "../enforce/store.ts";
import type { RunInfo } from "../ledger/index.ts";
import type { RunStatus } from "./types.ts";

const n = (x: number) => x.toLocaleString("en-US");

/** "cutoff by user", "freeze: budget, 1,200 of 1,000 claude tokens". */
export function describeAction(a: Pick<EnforcementActionRow, "kind" | "trigger" | "provider" | "used" | "limit">): string {
  if (a.trigger === "budget" && a.used !== undefined && a.limit !== undefined) {
    return `${a.kind}: budget, ${n(a.used)} of ${n(a.limit)}${a.provider ? ` ${a.provider}` : ""} tokens`;
  }
  return `${a.kind} by ${a.trigger}`;
}

function ended(run: RunInfo): string | undefined {
  if (run.stopReason) return `stopped: ${run.stopReason}${run.exitCode !== null ? `, exit ${run.exitCode}` : ""}`;
  return run.exitCode !== null ? `exit ${run.exitCode}` : undefined;
}

export function runStatus(run: RunInfo, last: EnforcementActionRow | undefined, ownerGone: boolean): { status: RunStatus; reason?: string } {
  const why = last ? describeAction(last) : undefined;
  if (run.state === "crashed") return { status: "ended", reason: `crashed: its process ${run.pid} died` };
  if (run.state === "ended") {
    const r = ended(run);
    return r ? { status: "ended", reason: r } : { status: "ended" };
  }
  if (run.state === "frozen") return { status: "frozen", reason: last?.kind === "freeze" && why ? why : "frozen" };
  if (ownerGone) return { status: "ended", reason: `its process ${run.pid} is gone` };
  if (last?.kind === "freeze") return { status: "frozen", reason: why! };
  if (last && (last.kind === "cutoff" || last.kind === "kill" || last.kind === "stop")) return { status: "cut off", reason: why! };
  return { status: "running" };
}
