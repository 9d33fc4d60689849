/**
 * How `bottle budget usage` looks: a fixed-width table for people and CSV for spreadsheets (`--json`
 * prints the report object itself). Pure: a UsageReport in, text out.
 */
import type { UsageGroup, UsageReport, UsageTotals } from "../ledger/usage-report.ts";
import { renderColumns } from "../util/table.ts";

const n = (x: number) => x.toLocaleString("en-US");
const NONE: Record<UsageReport["groupBy"], string> = { run: "(none)", agent: "(no agent)", bottle: "(no bottle)", provider: "(none)", model: "(unknown)" };

/** Requests, with how many were partly estimated and how many went through unmetered (`unmetered:`). */
function requestsCell(t: UsageTotals): string {
  const notes = [...(t.estimated > 0 ? [`${n(t.estimated)} est.`] : []), ...(t.unmeteredCalls > 0 ? [`${n(t.unmeteredCalls)} unmetered`] : [])];
  return notes.length > 0 ? `${n(t.requests)} (${notes.join(", ")})` : n(t.requests);
}

function cells(t: UsageTotals, runs: boolean): string[] {
  return [
    ...(runs ? [n(t.runs)] : []),
    requestsCell(t),
    n(t.inputTokens),
    n(t.outputTokens),
    n(t.cacheCreationTokens),
    n(t.cacheReadTokens + t.cachedTokens),
    n(t.reasoningTokens),
    n(t.totalTokens),
  ];
}

export function renderUsageTable(r: UsageReport): string {
  if (r.rows.length === 0) return `No usage recorded${r.since || r.until ? " in this range" : ""}.\n`;
  const byRun = r.groupBy === "run";
  const keys = byRun ? 3 : 1;
  const head = [r.groupBy.toUpperCase(), ...(byRun ? ["LABEL", "AGENT"] : ["RUNS"]), "REQUESTS", "INPUT", "OUTPUT", "CACHE WRITE", "CACHE READ", "REASONING", "TOTAL"];
  const row = (g: UsageGroup) => [g.key || NONE[r.groupBy], ...(byRun ? [g.label ?? "", g.agent || "-"] : []), ...cells(g, !byRun)];
  const total = ["TOTAL", ...(byRun ? [`${n(r.total.runs)} run${r.total.runs === 1 ? "" : "s"}`, ""] : []), ...cells(r.total, !byRun)];
  const align = head.map((_, i) => (i < keys ? "left" : "right") as "left" | "right");
  const lines = [renderColumns([head, ...r.rows.map(row), total], align).replace(/ +$/gm, "")];
  if (r.groupBy === "bottle" && r.rows.reduce((a, g) => a + g.totalTokens, 0) !== r.total.totalTokens) {
    lines.push("(a run that composed several bottles counts under each; the total counts it once)");
  }
  return `${lines.join("\n")}\n`;
}

const CSV_COLUMNS = ["group_by", "key", "label", "agent", "runs", "requests", "count_calls", "unmetered_calls", "estimated", "input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens", "cached_tokens", "reasoning_tokens", "total_tokens", "first_at", "last_at"];

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One line per group (no total line: a spreadsheet sums the columns itself; by bottle, rows may overlap). */
export function renderUsageCsv(r: UsageReport): string {
  const lines = [CSV_COLUMNS.join(",")];
  for (const g of r.rows) {
    const v = [r.groupBy, g.key, g.label ?? "", g.agent ?? "", g.runs, g.requests, g.countCalls, g.unmeteredCalls, g.estimated, g.inputTokens, g.outputTokens, g.cacheCreationTokens, g.cacheReadTokens, g.cachedTokens, g.reasoningTokens, g.totalTokens, g.firstAt, g.lastAt];
    lines.push(v.map(csvCell).join(","));
  }
  return `${lines.join("\r\n")}\r\n`;
}

/** The stderr line when usage still waits in the local spool (a fleet ledger that could not be reached). */
export function spoolNote(s: { rows: number; tokens: number; files: number }, dir: string): string {
  const rows = `${n(s.rows)} usage row${s.rows === 1 ? "" : "s"}`;
  return `note: ${rows} (${n(s.tokens)} tokens) still wait${s.rows === 1 ? "s" : ""} in this host's spool (${dir}) and ${s.rows === 1 ? "is" : "are"} not counted above; they are sent to the ledger by the next bottle process that writes to it once it is reachable`;
}
