/**
 * The egress audit repository: what each run reached and what it was refused. The proxy applies the run's
 * `egress.log` level before a record reaches the hooks (`blocks` keeps denials, refusals and errors; `full`
 * keeps everything), so every record handed here is stored.
 */
import type { AuditRecord } from "../proxy/hooks.ts";
import type { Insertable } from "kysely";
import type { EgressAuditRow, LedgerDb } from "./database.ts";
import type { EgressAuditTable } from "./tables/egress-audit.ts";
import { immediate } from "./tx.ts";

const CHUNK = 500;

export function auditRow(r: AuditRecord): Insertable<EgressAuditTable> {
  return {
    run_id: r.runId,
    created_at: r.time,
    host: r.host,
    method: r.method,
    path: r.path,
    status: r.status,
    decision: r.decision,
    reason: r.reason ?? null,
    bytes_up: r.bytesUp,
    bytes_down: r.bytesDown,
    duration_ms: r.durationMs,
  };
}

export async function insertAudit(db: LedgerDb, records: readonly AuditRecord[]): Promise<void> {
  for (let i = 0; i < records.length; i += CHUNK) await db.insertInto("egress_audit").values(records.slice(i, i + CHUNK).map(auditRow)).execute();
}

export async function recordAudit(db: LedgerDb, records: readonly AuditRecord[]): Promise<void> {
  if (records.length === 0) return;
  await immediate(db, (conn) => insertAudit(conn, records));
}

/** A run's audit log, oldest first; `afterId` skips the records already read (for following a live run). */
export async function auditOf(db: LedgerDb, runId: string, afterId = 0): Promise<EgressAuditRow[]> {
  return db.selectFrom("egress_audit").selectAll().where("run_id", "=", runId).where("id", ">", afterId).orderBy("created_at").orderBy("id").execute();
}

/** The latest `last` records of a run's audit log, oldest first (a tail, as the dashboard shows it). */
export async function recentAudit(db: LedgerDb, runId: string, last: number): Promise<EgressAuditRow[]> {
  const rows = await db.selectFrom("egress_audit").selectAll().where("run_id", "=", runId).orderBy("created_at", "desc").orderBy("id", "desc").limit(last).execute();
  return rows.reverse();
}
