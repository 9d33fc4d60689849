/**
 * `bottle budget restore <run> [--json]`: sent to the live run through the ledger; the run's own process acts
 * (within a second) and this command waits for the outcome.
 */
import { defineCommand } from "citty";
import { UsageError } from "../../../errors.ts";
import { log } from "../../../log.ts";
import { controlLiveRun } from "../../../runs/control.ts";
import { printJson, withLedger } from "../../ledger-session.ts";

export default defineCommand({
  meta: { name: "restore", description: "Restore a run that was cut off: its proxy admits requests again (within its budget)." },
  args: {
    run: { type: "positional", required: false, description: "Run id or label (see `bottle ps`)." },
    json: { type: "boolean", description: "Print {runId, command, result} as JSON; result is done or no change." },
  },
  run({ args }) {
    const ref = args.run;
    if (!ref) throw new UsageError("which run?", { key: "run", fix: "usage: bottle budget restore <run> (run ids and labels are in `bottle ps`)" });
    return withLedger(async ({ db }) => {
      const out = await controlLiveRun(db, ref, "restore");
      if (args.json) printJson(out);
      else log.info(out.result === "done" ? `run ${out.runId} is restored: requests are admitted again within its budget` : `run ${out.runId} was not cut off; nothing changed`);
    });
  },
});
