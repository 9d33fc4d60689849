/**
 * `bottle budget cutoff <run> [--json]`: sent to the live run through the ledger; the run's own process acts
 * (within a second) and this command waits for the outcome.
 */
import { defineCommand } from "citty";
import { UsageError } from "../../../errors.ts";
import { log } from "../../../log.ts";
import { controlLiveRun } from "../../../runs/control.ts";
import { printJson, withLedger } from "../../ledger-session.ts";

export default defineCommand({
  meta: { name: "cutoff", description: "Cut a live run off: its proxy refuses every further model request until restored." },
  args: {
    run: { type: "positional", required: false, description: "Run id or label (see `bottle ps`)." },
    json: { type: "boolean", description: "Print {runId, command, result} as JSON; result is done or no change." },
  },
  run({ args }) {
    const ref = args.run;
    if (!ref) throw new UsageError("which run?", { key: "run", fix: "usage: bottle budget cutoff <run> (run ids and labels are in `bottle ps`)" });
    return withLedger(async ({ db }) => {
      const out = await controlLiveRun(db, ref, "cutoff");
      if (args.json) printJson(out);
      else log.info(out.result === "done" ? `run ${out.runId} is cut off: every further model request is refused` : `run ${out.runId} was already cut off; nothing changed`);
    });
  },
});
