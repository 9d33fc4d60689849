/**
 * The ledger: bottle's only shared state (runs, usage, reservations, enforcement actions, the egress audit
 * log, control commands, budget resets) in one SQLite file, behind plain repository functions that take the
 * database first. Nothing outside src/ledger writes SQL against these tables except enforcement's own port
 * (src/enforce/sql-store.ts), whose columns the schema type-checks against. See docs/ledger.md.
 */
export type { Database, LedgerDb, RunRow, UsageEventRow, EgressAuditRow } from "./database.ts";
export { connectLedger, openLedger, ledgerPath, DEFAULT_BUSY_TIMEOUT_MS, type OpenLedgerOptions } from "./open.ts";
export { LATEST_MIGRATION } from "./migrations/index.ts";
export { immediate, snapshot } from "./tx.ts";
export { registerRun, claimRun, endRun, setRunState, getRun, listRuns, type NewRun, type RunEnd, type RunFilter, type RunInfo, type RunState } from "./runs.ts";
export { recordUsage, insertUsage, usageEventOf, type UsageEvent, type ExchangeFacts } from "./usage.ts";
export { recordAudit, insertAudit, auditOf, recentAudit } from "./audit.ts";
export { ledgerHooks, METER_STATE_KEY, RESERVATION_STATE_KEY, RESERVATION_SETTLED_KEY, type LedgerHooks, type LedgerRun } from "./run-hooks.ts";
export { LedgerWriter, type WriterProblem } from "./writer.ts";
export { integrityProblems } from "./integrity.ts";
export { readTotal, sumUsage, checkTotals, dropTotals, NO_WINDOW_END, type TotalsCheck, type TotalsMismatch } from "./totals.ts";
export { usageReport, USAGE_GROUPS, type UsageGroupBy, type UsageGroup, type UsageQuery, type UsageReport, type UsageTotals } from "./usage-report.ts";
export { runActivity, recentActions, type RunActivity, type ActionEntry } from "./activity.ts";
export { runRowBounds, runModelUsage, runActions, runAudit, type RowBounds, type ModelUsageRow, type ActionRow } from "./run-rows.ts";
