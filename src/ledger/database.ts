/**
 * The ledger's schema as one kysely `Database` type: one interface per table, each in its own file under
 * tables/. The migrations under migrations/ create exactly these tables. Enforcement reads and writes a
 * subset of them through its own port (src/enforce/sql-store.ts); the type check at the bottom fails the
 * build if the ledger ever stops covering that subset.
 */
import type { Kysely, Selectable } from "kysely";
import type { EnforceTables } from "../enforce/sql-store.ts";
import type { BudgetResetsTable } from "./tables/budget-resets.ts";
import type { BudgetTotalsTable } from "./tables/budget-totals.ts";
import type { CommandsTable } from "./tables/commands.ts";
import type { EgressAuditTable } from "./tables/egress-audit.ts";
import type { EnforcementActionsTable } from "./tables/enforcement-actions.ts";
import type { ReservationsTable } from "./tables/reservations.ts";
import type { RunsTable } from "./tables/runs.ts";
import type { UsageEventsTable } from "./tables/usage-events.ts";

export interface Database {
  runs: RunsTable;
  usage_events: UsageEventsTable;
  reservations: ReservationsTable;
  enforcement_actions: EnforcementActionsTable;
  commands: CommandsTable;
  budget_resets: BudgetResetsTable;
  budget_totals: BudgetTotalsTable;
  egress_audit: EgressAuditTable;
}

/** A ledger connection (or a transaction-bound one: repository functions accept either). */
export type LedgerDb = Kysely<Database>;

export type RunRow = Selectable<RunsTable>;
export type UsageEventRow = Selectable<UsageEventsTable>;
export type EgressAuditRow = Selectable<EgressAuditTable>;

/** true when every column enforcement needs exists in the ledger with a compatible type. */
type Covers<Need, Have> = {
  [T in keyof Need]: T extends keyof Have
    ? { [C in keyof Need[T]]: C extends keyof Selectable<Have[T]> ? (Selectable<Have[T]>[C] extends Need[T][C] ? true : false) : false }[keyof Need[T]]
    : false;
}[keyof Need];
const ledgerCoversEnforcement: Covers<EnforceTables, Database> extends true ? true : never = true;
void ledgerCoversEnforcement;
