/**
 * Fixed-width text tables for listings people read (`--json` prints data instead). Columns are padded to
 * their widest cell, two spaces apart; the last column is not padded, so lines carry no trailing spaces.
 */
export function renderColumns(rows: ReadonlyArray<readonly string[]>): string {
  const n = Math.max(0, ...rows.map((r) => r.length));
  const widths = Array.from({ length: n }, (_, i) => Math.max(0, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  return rows.map(line).join("\n");
}

export function renderTable(head: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  return renderColumns([head, ...rows]);
}
