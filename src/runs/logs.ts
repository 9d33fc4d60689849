/**
 * `bottle logs <run>`: the run's egress audit log from the ledger — every request or tunnel the run's
 * `egress.log` level kept, with its time, host, method, path, status, the proxy's decision (mitm, tunnel,
 * deny, refuse, error), bytes each way and duration. `--follow` keeps printing new records until the run is
 * over (ended or frozen, or its owner process gone), then prints the last ones and returns. Records come out
 * as lines for people or as JSON Lines (one object a line, the same with or without --follow).
 */
import { hostName } from "../host-name.ts";
import { isoInZone } from "../budget/zoned-time.ts";
import { pidAlive } from "../enforce/run-control.ts";
import { auditOf, getRun, type EgressAuditRow, type LedgerDb, type RunInfo } from "../ledger/index.ts";

export interface AuditEntry {
  id: number;
  runId: string;
  /** ISO 8601, UTC. */
  time: string;
  host: string;
  method: string;
  path: string;
  status: number;
  decision: string;
  reason?: string;
  bytesUp: number;
  bytesDown: number;
  durationMs: number;
}

export function auditEntry(r: EgressAuditRow): AuditEntry {
  return {
    id: r.id,
    runId: r.run_id,
    time: new Date(r.created_at).toISOString(),
    host: r.host,
    method: r.method,
    path: r.path,
    status: r.status,
    decision: r.decision,
    ...(r.reason ? { reason: r.reason } : {}),
    bytesUp: r.bytes_up,
    bytesDown: r.bytes_down,
    durationMs: r.duration_ms,
  };
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export const AUDIT_HEADER = `${"TIME".padEnd(20)}  ${"METHOD".padEnd(7)} ${"STATUS"} ${"DECISION".padEnd(8)} ${"UP".padStart(9)} ${"DOWN".padStart(9)} ${"TOOK".padStart(8)}  HOST/PATH`;

/** One record for people, times in the configured zone: aligned columns, then host and path, then why. */
export function auditLine(e: AuditEntry, timeZone: string): string {
  const time = isoInZone(Date.parse(e.time), timeZone).padEnd(20);
  const cols = `${time}  ${e.method.padEnd(7)} ${String(e.status).padEnd(6)} ${e.decision.padEnd(8)} ${bytes(e.bytesUp).padStart(9)} ${bytes(e.bytesDown).padStart(9)} ${`${e.durationMs} ms`.padStart(8)}`;
  return `${cols}  ${e.host}${e.path}${e.reason ? `  (${e.reason})` : ""}`;
}

/** Whether more records can still arrive for this run. */
export function runIsOver(run: RunInfo | undefined, isAlive = pidAlive): boolean {
  if (!run || run.state !== "running") return true;
  if (run.pid === null || (run.host !== null && run.host !== hostName())) return false;
  return !isAlive(run.pid);
}

export interface FollowOptions {
  follow?: boolean;
  intervalMs?: number;
  isAlive?: (pid: number) => boolean;
}

/** Emits the run's records oldest first; with `follow`, keeps polling until the run is over. */
export async function streamAudit(db: LedgerDb, runId: string, emit: (e: AuditEntry) => void, o: FollowOptions = {}): Promise<number> {
  let last = 0;
  let count = 0;
  const drain = async () => {
    // Ids grow with every insert, so `id > last` is exactly what arrived since (a batch is in time order).
    for (const r of await auditOf(db, runId, last)) {
      last = Math.max(last, r.id);
      count++;
      emit(auditEntry(r));
    }
  };
  if (!o.follow) {
    await drain();
    return count;
  }
  for (;;) {
    // Read the run's state before the records: a record written just before it ended is still drained.
    const over = runIsOver(await getRun(db, runId), o.isAlive);
    await drain();
    if (over) return count;
    await Bun.sleep(o.intervalMs ?? 250);
  }
}
