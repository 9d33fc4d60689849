/**
 * `bottle ledger check [--repair] [--json]`: proves the ledger is sound. SQLite's quick_check over the
 * whole file, then every running total (the one row admission reads per budget) recomputed from
 * usage_events. Any difference is printed and the command fails; `--repair` rewrites the totals that differ
 * (usage_events is the record, the totals are derived from it).
 */
import { defineCommand } from "citty";
import { LedgerError } from "../../../errors.ts";
import { checkTotals, integrityProblems, ledgerPath } from "../../../ledger/index.ts";
import { redactUrl } from "../../../ledger/dialect.ts";
import { log } from "../../../log.ts";
import { printJson, withLedger } from "../../ledger-session.ts";

export default defineCommand({
  meta: { name: "check", description: "Check the ledger file's integrity and that every running total equals the sum of its usage." },
  args: {
    repair: { type: "boolean", description: "Rewrite running totals that differ from their usage (the usage rows are kept as they are)." },
    json: { type: "boolean", description: "Print {file, integrity, totals, mismatches, repaired} as JSON." },
  },
  run({ args }) {
    return withLedger(async ({ settings, db }) => {
      // A fleet ledger is named by its URL with the password hidden.
      const file = redactUrl(ledgerPath(settings));
      const integrity = await integrityProblems(db);
      const totals = await checkTotals(db, { repair: !!args.repair });
      const repaired = !!args.repair && totals.mismatches.length > 0;
      if (args.json) printJson({ file, integrity: integrity.length === 0 ? "ok" : integrity, totals: totals.rows, mismatches: totals.mismatches, repaired });
      else {
        log.info(`ledger ${file}: integrity ${integrity.length === 0 ? "ok" : `FAILED (${integrity.slice(0, 5).join("; ")})`}`);
        for (const m of totals.mismatches) {
          log.info(`  ${m.scope}${m.key ? ` ${m.key}` : ""} ${m.provider} from ${new Date(m.since).toISOString()}: total ${m.stored}, usage sums to ${m.actual}${repaired ? " (repaired)" : ""}`);
        }
        log.info(`running totals: ${totals.rows} checked, ${totals.mismatches.length} differ from their usage${repaired ? " (repaired)" : ""}`);
      }
      if (integrity.length > 0) {
        throw new LedgerError(`the ledger at ${file} is damaged: ${integrity[0]}`, { file, fix: "restore it from a backup, or move it aside (bottle starts a new ledger, without the old history)" });
      }
      if (totals.mismatches.length > 0 && !repaired) {
        throw new LedgerError(`${totals.mismatches.length} running total(s) in ${file} differ from their usage`, { file, fix: "run `bottle ledger check --repair` to rebuild them from the usage rows" });
      }
    });
  },
});
