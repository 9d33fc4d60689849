/**
 * `bottle logs <run> [--follow] [--json]`: the run's egress audit log — what it reached and what it was
 * refused. `--json` prints JSON Lines (one object a line), also with --follow.
 */
import { defineCommand } from "citty";
import { existsSync } from "node:fs";
import { recordPath } from "../../provenance/store.ts";
import { AUDIT_HEADER, auditLine, streamAudit } from "../../runs/logs.ts";
import { findRun } from "../../runs/find.ts";
import { withLedger } from "../ledger-session.ts";
import { runArg, runRef } from "../run-arg.ts";

export default defineCommand({
  meta: { name: "logs", description: "Show a run's egress audit log: time, host, method, path, status, decision, bytes, duration." },
  args: {
    run: runArg,
    follow: { type: "boolean", alias: "f", description: "Keep printing new records until the run ends." },
    json: { type: "boolean", description: "One JSON object per record and line (JSON Lines)." },
  },
  run({ args }) {
    const ref = runRef(args.run, "bottle logs <run> [--follow]");
    return withLedger(async ({ home, settings, db }) => {
      const run = await findRun(db, ref);
      if (!args.json) process.stdout.write(`${AUDIT_HEADER}\n`);
      const emit = args.json ? (e: object) => process.stdout.write(`${JSON.stringify(e)}\n`) : (e: Parameters<typeof auditLine>[0]) => process.stdout.write(`${auditLine(e, settings.timezone)}\n`);
      const n = await streamAudit(db, run.id, emit, { follow: !!args.follow });
      if (n === 0 && !args.json) process.stderr.write(`no egress records for run ${run.id} (its bottles' egress.log level decides what is kept)\n`);
      // An ended run's signed record sums these up, with what the run spent and changed.
      const record = recordPath(home, run.id);
      if (existsSync(record)) process.stderr.write(`provenance record: ${record} (\`bottle report ${run.id}\`)\n`);
    });
  },
});
