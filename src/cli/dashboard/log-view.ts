/**
 * The egress log of one run, as the dashboard shows it when `l` is pressed: the latest records of the
 * ledger's audit log (what the run reached, what it was denied or refused), newest at the bottom like a
 * tail. With the default `egress.log: blocks` only denials, refusals and errors are kept, which the empty
 * view says so that an empty log is not mistaken for a broken one.
 */
import { isoInZone } from "../../budget/zoned-time.ts";
import type { EgressAuditRow } from "../../ledger/index.ts";
import { fit, pad, SGR, type Paint } from "./ansi.ts";
import { bytes, clock } from "./format.ts";

/** How many records the dashboard reads for the log view. */
export const LOG_RECORDS = 200;

const DECISION_CODE: Record<string, number> = { mitm: SGR.green, tunnel: SGR.green, deny: SGR.red, refuse: SGR.yellow, error: SGR.red };

export function logLines(run: { runId: string; label: string }, rows: readonly EgressAuditRow[], timeZone: string, width: number, room: number | undefined, paint: Paint): string[] {
  const title = paint(fit(`EGRESS LOG  ${run.label} (run ${run.runId}), latest last`, width), SGR.bold);
  if (rows.length === 0) {
    return [title, paint(fit("no egress records for this run yet; with `egress.log: blocks` (the default) only denials, refusals and errors are kept", width), SGR.gray)];
  }
  const head = paint(fit(["TIME    ", "DECISION", "STATUS", "METHOD ", "     UP", "   DOWN", "    MS", "HOST / PATH"].join("  "), width), SGR.dim);
  const shown = room === undefined ? rows : rows.slice(-Math.max(1, room - 2));
  const lines = shown.map((r) => {
    const cells = [
      clock(isoInZone(r.created_at, timeZone)),
      pad(r.decision, 8),
      pad(String(r.status), 6),
      pad(r.method, 7),
      pad(bytes(r.bytes_up), 7, "right"),
      pad(bytes(r.bytes_down), 7, "right"),
      pad(String(r.duration_ms), 6, "right"),
      `${r.host}${r.path}${r.reason ? `  (${r.reason})` : ""}`,
    ];
    const plain = fit(cells.join("  "), width);
    const at = cells[0]!.length + 2;
    // Color only the decision cell, which sits at a fixed offset in the plain line.
    return plain.slice(0, at) + paint(plain.slice(at, at + 8), DECISION_CODE[r.decision]) + plain.slice(at + 8);
  });
  return [title, head, ...lines];
}
