/**
 * `bottle ps --all`: the live runs of every host that shares this ledger. A host only sees its own
 * bottles' processes and containers, so the fleet view comes from the ledger's run rows instead: every run
 * that is running or frozen, with the host that owns it. Pure shaping plus one read.
 */
import { listRuns, type LedgerDb, type RunInfo } from "../ledger/index.ts";
import { formatAge, type PsJson } from "../backends/listing.ts";
import { renderTable } from "../util/table.ts";

/** `bottle ps --json`'s row, with the host that owns the run. */
export interface FleetPsRow extends PsJson {
  host: string;
}

export async function fleetRuns(db: LedgerDb): Promise<RunInfo[]> {
  return (await listRuns(db, { state: ["running", "frozen"] })).sort((a, b) => a.startedAt - b.startedAt || a.id.localeCompare(b.id));
}

export function fleetJson(runs: readonly RunInfo[], now: number): FleetPsRow[] {
  return runs.map((r) => ({
    runId: r.id,
    label: r.label,
    agent: r.agent,
    provider: r.provider ?? "",
    backend: r.backend ?? "",
    state: r.state,
    host: r.host ?? "",
    createdAt: new Date(r.startedAt).toISOString(),
    ageSeconds: Math.max(0, Math.floor((now - r.startedAt) / 1000)),
  }));
}

export function fleetTable(runs: readonly RunInfo[], now: number): string {
  const rows = runs.map((r) => [r.id, r.label, r.agent || "-", r.backend ?? "-", r.host ?? "-", formatAge(now - r.startedAt), r.state]);
  return renderTable(["RUN ID", "LABEL", "AGENT", "BACKEND", "HOST", "AGE", "STATE"], rows);
}
