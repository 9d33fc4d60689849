/**
 * The usage writer's statements as fixed SQL text, one row per execution. The writer used to build each
 * batch with the query builder (a multi-row INSERT whose text depends on the batch's size, then the totals
 * and release UPDATEs), and compiling them was a fifth of `bottle proxy`'s CPU under load. These texts never
 * change (the totals UPDATE has one text per number of scopes a run counts in), so bun:sqlite compiles each
 * once per connection and every row after that only binds parameters; the rows of a batch still commit in
 * the writer's one transaction. The columns are the ones usageRow and auditRow fill, in a fixed order.
 */
import type { AuditRecord } from "../proxy/hooks.ts";
import { auditRow } from "./audit.ts";
import type { TotalsCharge } from "./totals.ts";
import { usageRow, type UsageEvent } from "./usage.ts";

/** One statement to run: its text (prepared once per connection) and this row's parameters. */
export interface RowStatement {
  sql: string;
  params: Array<string | number | null>;
}

const USAGE_COLUMNS = Object.keys(usageRow({ runId: "", provider: "", at: 0, totalTokens: 0 })) as Array<keyof ReturnType<typeof usageRow>>;
const USAGE_INSERT = `insert into usage_events (${USAGE_COLUMNS.join(", ")}) values (${USAGE_COLUMNS.map(() => "?").join(", ")})`;

const AUDIT_COLUMNS = Object.keys(auditRow({ time: 0, runId: "", host: "", method: "", path: "", status: 0, decision: "mitm", bytesUp: 0, bytesDown: 0, durationMs: 0 })) as Array<
  keyof ReturnType<typeof auditRow>
>;
const AUDIT_INSERT = `insert into egress_audit (${AUDIT_COLUMNS.join(", ")}) values (${AUDIT_COLUMNS.map(() => "?").join(", ")})`;

const RELEASE = "update reservations set released_at = ?, settled_tokens = ? where id = ? and released_at is null";

const chargeTexts: string[] = [];
/** The totals UPDATE for a run counted in `n` scopes (the same rule as chargeQuery in totals.ts). */
function chargeText(n: number): string {
  return (chargeTexts[n] ??= `update budget_totals set tokens = tokens + ? where provider = ? and since <= ? and window_end > ? and (${Array.from({ length: n }, () => "(scope = ? and scope_key = ?)").join(" or ")})`);
}

const cell = (v: unknown): string | number | null => (v === undefined ? null : (v as string | number | null));

export function usageInsert(e: UsageEvent): RowStatement {
  const row = usageRow(e);
  return { sql: USAGE_INSERT, params: USAGE_COLUMNS.map((c) => cell(row[c])) };
}

export function auditInsert(r: AuditRecord): RowStatement {
  const row = auditRow(r);
  return { sql: AUDIT_INSERT, params: AUDIT_COLUMNS.map((c) => cell(row[c])) };
}

export function chargeUpdate(c: TotalsCharge): RowStatement {
  const params: Array<string | number | null> = [c.tokens, c.provider, c.at, c.at];
  for (const s of c.scopes) params.push(s.scope, s.key);
  return { sql: chargeText(c.scopes.length), params };
}

export function releaseUpdate(r: { id: string; at: number; tokens: number }): RowStatement {
  return { sql: RELEASE, params: [r.at, r.tokens, r.id] };
}
