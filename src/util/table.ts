/**
 * Fixed-width text tables for listings people read (`--json` prints data instead). Columns are padded to
 * their widest cell, two spaces apart; the last column is not padded, so lines carry no trailing spaces.
 * Columns marked "right" in `align` (numbers) are right-aligned instead.
 */
export function renderColumns(rows: ReadonlyArray<readonly string[]>, align: ReadonlyArray<"left" | "right"> = []): string {
  const n = Math.max(0, ...rows.map((r) => r.length));
  const widths = Array.from({ length: n }, (_, i) => Math.max(0, ...rows.map((r) => (r[i] ?? "").length)));
  const cell = (c: string, i: number, last: boolean) => (align[i] === "right" ? c.padStart(widths[i]!) : last ? c : c.padEnd(widths[i]!));
  const line = (cells: readonly string[]) => cells.map((c, i) => cell(c, i, i === cells.length - 1)).join("  ");
  return rows.map(line).join("\n");
}

export function renderTable(head: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  return renderColumns([head, ...rows]);
}
