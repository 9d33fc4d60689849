/**
 * The rows of `bottle budget show`: each budget with where it was set, its window, and how much of it is
 * used, held by in-flight reservations and left. Pure: budgets and their standing in, rows and text out.
 */
import type { EffectiveBudget } from "./precedence.ts";
import { describeWindow } from "./windows.ts";

export interface BudgetRow {
  scope: EffectiveBudget["scope"];
  name?: string;
  provider: EffectiveBudget["provider"];
  limit: number;
  per?: EffectiveBudget["per"];
  window: string;
  used: number;
  /** Tokens reserved by requests in flight. */
  held: number;
  remaining: number;
  /** ISO time the count starts (window start or last reset). */
  since?: string;
  /** ISO time the window ends, when it has one. */
  resets?: string;
  file?: string;
  /** For a run-centred view: whether this budget is the one that governs. */
  governs?: boolean;
}

export function budgetRow(
  b: EffectiveBudget,
  s: { used: number; held: number; since: number; windowEnd?: number },
  timeZone: string,
  governs?: boolean,
): BudgetRow {
  const row: BudgetRow = {
    scope: b.scope,
    provider: b.provider,
    limit: b.tokens,
    window: describeWindow(b.per, timeZone),
    used: s.used,
    held: s.held,
    remaining: Math.max(0, b.tokens - s.used - s.held),
  };
  if (b.name !== undefined) row.name = b.name;
  if (b.per) row.per = b.per;
  if (s.since > 0) row.since = new Date(s.since).toISOString();
  if (s.windowEnd !== undefined) row.resets = new Date(s.windowEnd).toISOString();
  if (b.file !== undefined) row.file = b.file;
  if (governs !== undefined) row.governs = governs;
  return row;
}

const n = (x: number) => x.toLocaleString("en-US");

/** A fixed-width table for people; `--json` prints the rows instead. */
export function renderRows(rows: readonly BudgetRow[]): string {
  if (rows.length === 0) return "No budgets are set. Add one with `bottle budget set global claude 5000000`.\n";
  const head = ["SCOPE", "PROVIDER", "USED", "LIMIT", "LEFT", "WINDOW", "SET IN"];
  const body = rows.map((r) => [
    `${r.governs === false ? "  " : r.governs ? "* " : ""}${r.scope}${r.name ? ` ${r.name}` : ""}`,
    r.provider,
    r.held > 0 ? `${n(r.used)} (+${n(r.held)} held)` : n(r.used),
    n(r.limit),
    n(r.remaining),
    r.resets ? `${r.window}, resets ${r.resets.replace(".000Z", "Z")}` : r.window,
    r.file ?? "--budget",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  return `${[line(head), ...body.map(line)].join("\n")}\n`;
}
