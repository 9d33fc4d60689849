/**
 * `bottle budget usage [--by run|agent|bottle|provider|model] [--since X] [--until Y] [--run R] [--json|--csv]`:
 * token usage from the ledger, grouped, with a total that equals the ledger's sum exactly. `--run` takes a
 * run id or a label (the live run holding it, else the latest run that had it). Usage still waiting in this
 * host's spool (a fleet ledger that was down) is not in the report; one line on stderr says how much (and
 * `spooled` in --json).
 */
import { defineCommand } from "citty";
import { parseWhen } from "../../../budget/time-range.ts";
import { renderUsageCsv, renderUsageTable } from "../../../budget/usage-format.ts";
import { UsageError } from "../../../errors.ts";
import { USAGE_GROUPS, usageReport, type UsageGroupBy } from "../../../ledger/index.ts";
import { pendingSpool } from "../../../ledger/spool-pending.ts";
import { spoolDir } from "../../../ledger/spool.ts";
import { spoolNote } from "../../../budget/usage-format.ts";
import { loadSettings } from "../../../manifest/settings.ts";
import { findRun } from "../../../runs/find.ts";
import { openCliLedger } from "../../ledger.ts";

export default defineCommand({
  meta: { name: "usage", description: "Report token usage from the ledger, grouped by run, agent, bottle, provider or model." },
  args: {
    by: { type: "string", description: `group by ${USAGE_GROUPS.join(" | ")} (default run)` },
    since: { type: "string", description: "from this ISO date (midnight in settings' timezone) or date-time, or a span back from now (7d, 12h)" },
    until: { type: "string", description: "up to this ISO date (inclusive) or date-time (exclusive), or a span back from now" },
    run: { type: "string", description: "only this run: its id, or its label (the latest run that had it when none live does)" },
    json: { type: "boolean", description: "print the report as JSON" },
    csv: { type: "boolean", description: "print the groups as CSV" },
  },
  async run({ args }) {
    const by = (args.by ?? "run") as UsageGroupBy;
    if (!USAGE_GROUPS.includes(by)) throw new UsageError(`--by ${args.by} is not a grouping`, { key: "--by", fix: `use one of ${USAGE_GROUPS.join(", ")}` });
    if (args.json && args.csv) throw new UsageError("--json and --csv cannot be combined", { key: "--csv", fix: "pick one" });
    const settings = loadSettings();
    const now = Date.now();
    const since = args.since !== undefined ? parseWhen(args.since, "--since", now, settings.timezone) : undefined;
    const until = args.until !== undefined ? parseWhen(args.until, "--until", now, settings.timezone) : undefined;
    if (since !== undefined && until !== undefined && since >= until) {
      throw new UsageError(`--since ${args.since} is not before --until ${args.until}`, { key: "--since", fix: "give a range that starts before it ends" });
    }
    const db = await openCliLedger(settings);
    try {
      const run = args.run !== undefined ? (await findRun(db, args.run)).id : undefined;
      const report = await usageReport(db, { by, ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}), ...(run !== undefined ? { run } : {}) });
      const spooled = await pendingSpool(db);
      process.stdout.write(args.json ? `${JSON.stringify({ ...report, spooled }, null, 2)}\n` : args.csv ? renderUsageCsv(report) : renderUsageTable(report));
      if (spooled.rows > 0) process.stderr.write(`${spoolNote(spooled, spoolDir())}\n`);
    } finally {
      await db.destroy();
    }
  },
});
