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

// Column lists are taken from usageRow/auditRow on first use (usage.ts also imports this module).
let usageColumns: Array<keyof ReturnType<typeof usageRow>> | undefined;
let usageInsertText: string | undefined;
const usageCols = () => (usageColumns ??= Object.keys(usageRow({ runId: "", provider: "", at: 0, totalTokens: 0 })) as Array<keyof ReturnType<typeof usageRow>>);
let auditColumns: Array<keyof ReturnType<typeof auditRow>> | undefined;
let auditInsertText: string | undefined;
const auditCols = () =>
  (auditColumns ??= Object.keys(auditRow({ time: 0, runId: "", host: "", method: "", path: "", status: 0, decision: "mitm", bytesUp: 0, bytesDown: 0, durationMs: 0 })) as Array<
    keyof ReturnType<typeof auditRow>
  >);
const row = (n: number) => `(${Array.from({ length: n }, () => "?").join(", ")})`;

const RELEASE = "update reservations set released_at = ?, settled_tokens = ? where id = ? and released_at is null";

const chargeTexts: string[] = [];
/** The totals UPDATE for a run counted in `n` scopes (the same rule as chargeQuery in totals.ts). */
function chargeText(n: number): string {
  return (chargeTexts[n] ??= `update budget_totals set tokens = tokens + ? where provider = ? and since <= ? and window_end > ? and (${Array.from({ length: n }, () => "(scope = ? and scope_key = ?)").join(" or ")})`);
}

const cell = (v: unknown): string | number | null => (v === undefined ? null : (v as string | number | null));

export function usageInsert(e: UsageEvent): RowStatement {
  const cols = usageCols();
  const r = usageRow(e);
  return { sql: (usageInsertText ??= `insert into usage_events (${cols.join(", ")}) values ${row(cols.length)}`), params: cols.map((c) => cell(r[c])) };
}

export function auditInsert(a: AuditRecord): RowStatement {
  const cols = auditCols();
  const r = auditRow(a);
  return { sql: (auditInsertText ??= `insert into egress_audit (${cols.join(", ")}) values ${row(cols.length)}`), params: cols.map((c) => cell(r[c])) };
}

const onceTexts = new Map<number, string>();
/**
 * Fleet ledger: rows with writer-assigned uids, each inserted at most once, as one multi-row INSERT that
 * returns the uids it inserted (a replayed row finds its uid taken). One text per number of rows.
 */
export function usageInsertOnce(rows: ReadonlyArray<{ event: UsageEvent; uid: string }>): RowStatement {
  const cols = usageCols();
  let text = onceTexts.get(rows.length);
  if (!text) {
    text = `insert into usage_events (${cols.join(", ")}, uid) values ${rows.map(() => row(cols.length + 1)).join(", ")} on conflict (uid) do nothing returning uid`;
    onceTexts.set(rows.length, text);
  }
  const params: RowStatement["params"] = [];
  for (const x of rows) {
    const r = usageRow(x.event);
    for (const c of cols) params.push(cell(r[c]));
    params.push(x.uid);
  }
  return { sql: text, params };
}

const pgTexts = new Map<string, string>();
/** The same statement with Postgres's numbered placeholders ($1, $2, …), converted once per text. */
export function onPostgres(st: RowStatement): RowStatement {
  let text = pgTexts.get(st.sql);
  if (!text) {
    let i = 0;
    text = st.sql.replace(/\?/g, () => `$${++i}`);
    pgTexts.set(st.sql, text);
  }
  return { sql: text, params: st.params };
}

export function chargeUpdate(c: TotalsCharge): RowStatement {
  const params: Array<string | number | null> = [c.tokens, c.provider, c.at, c.at];
  for (const s of c.scopes) params.push(s.scope, s.key);
  return { sql: chargeText(c.scopes.length), params };
}

export function releaseUpdate(r: { id: string; at: number; tokens: number }): RowStatement {
  return { sql: RELEASE, params: [r.at, r.tokens, r.id] };
}
