/**
 * The rows of `bottle budget show`: each budget with where it was set (scope and file), its window (the
 * current period's start and end, written in the configured time zone), the last reset inside it, and how
 * much of it is used, held by in-flight reservations and left. Pure: budgets and their standing in, rows and
 * text out.
 */
import type { EffectiveBudget } from "./precedence.ts";
import { describeWindow, windowAt } from "./windows.ts";
import { renderColumns } from "../util/table.ts";
import { isoInZone, wallText } from "./zoned-time.ts";

export interface BudgetRow {
  scope: EffectiveBudget["scope"];
  name?: string;
  provider: EffectiveBudget["provider"];
  limit: number;
  per?: EffectiveBudget["per"];
  /** "per day (Europe/Berlin)" or "no window". */
  window: string;
  timeZone: string;
  /** The current window's first instant, ISO 8601 with the zone's offset (absent without a window). */
  windowStart?: string;
  /** The next window's first instant: when the count starts over. */
  windowEnd?: string;
  /** The last `bottle budget reset` of this budget, when it falls in the current window. */
  resetAt?: string;
  used: number;
  /** Tokens reserved by requests in flight. */
  held: number;
  remaining: number;
  file?: string;
  /** A repository's budget (./.bottle/agents): enforced in addition to the host's, never instead. */
  also?: true;
  /** For a run-centred view: whether this budget is enforced (the governing one, or a repository's). */
  governs?: boolean;
}

/** What the ledger says about one budget: the count, the reservations, and where the count starts. */
export interface RowStanding {
  used: number;
  held: number;
  /** Count start (ms): the later of the window start and the last reset. */
  since: number;
}

export function budgetRow(b: EffectiveBudget, s: RowStanding, timeZone: string, now: number, governs?: boolean): BudgetRow {
  const w = windowAt(now, b.per, timeZone);
  const row: BudgetRow = {
    scope: b.scope,
    provider: b.provider,
    limit: b.tokens,
    window: describeWindow(b.per, timeZone),
    timeZone,
    used: s.used,
    held: s.held,
    remaining: Math.max(0, b.tokens - s.used - s.held),
  };
  if (b.name !== undefined) row.name = b.name;
  if (b.per) row.per = b.per;
  if (w.end !== undefined) {
    row.windowStart = isoInZone(w.start, timeZone);
    row.windowEnd = isoInZone(w.end, timeZone);
  }
  if (s.since > w.start) row.resetAt = isoInZone(s.since, timeZone);
  if (b.file !== undefined) row.file = b.file;
  if (b.also) row.also = true;
  if (governs !== undefined) row.governs = governs;
  return row;
}

const n = (x: number) => x.toLocaleString("en-US");

/** A path as people write it: under the home directory as `~/…` (`--json` keeps absolute paths). */
export function displayPath(file: string, home = process.env.HOME ?? ""): string {
  return home.length > 1 && file.startsWith(`${home}/`) ? `~${file.slice(home.length)}` : file;
}

function windowCell(r: BudgetRow): string {
  const zone = (iso: string) => wallText(Date.parse(iso), r.timeZone);
  const base = r.windowStart && r.windowEnd ? `${r.per} ${zone(r.windowStart)} → ${zone(r.windowEnd)}` : "none";
  return r.resetAt ? `${base}, reset ${zone(r.resetAt)}` : base;
}

/** A fixed-width table for people, times in each row's zone (say which above it); `--json` prints the rows. */
export function renderRows(rows: readonly BudgetRow[]): string {
  const head = ["SCOPE", "PROVIDER", "USED", "LIMIT", "LEFT", "WINDOW", "SET IN"];
  const body = rows.map((r) => [
    `${r.governs === false ? "  " : r.governs ? "* " : ""}${r.scope}${r.name ? ` ${r.name}` : ""}`,
    r.provider,
    r.held > 0 ? `${n(r.used)} (+${n(r.held)} held)` : n(r.used),
    n(r.limit),
    n(r.remaining),
    windowCell(r),
    `${r.file ? displayPath(r.file) : "--budget"}${r.also ? " (repository's; in addition)" : ""}`,
  ]);
  return `${renderColumns([head, ...body], ["left", "left", "right", "right", "right"])}\n`;
}
