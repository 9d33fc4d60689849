/**
 * `bottle stop <run> [--json]`: stop a live run. Its own process does the teardown (asked through the
 * ledger, so the proxy, the bottle and the ledger row are closed cleanly); if that process is gone, the
 * bottle is torn down here through its backend.
 */
import { defineCommand } from "citty";
import { log } from "../../log.ts";
import { stopRun } from "../../runs/stop.ts";
import { printJson, withLedger } from "../ledger-session.ts";
import { runArg, runRef } from "../run-arg.ts";

export default defineCommand({
  meta: { name: "stop", description: "Stop a live run and tear its bottle down (nothing is saved)." },
  args: {
    run: runArg,
    json: { type: "boolean", description: "Print {runId, via, result} as JSON; via is owner or backend." },
  },
  run({ args }) {
    const ref = runRef(args.run, "bottle stop <run>");
    return withLedger(async ({ home, db }) => {
      const out = await stopRun(db, ref, { home });
      if (args.json) printJson(out);
      else log.info(out.result === "no change" ? `run ${out.runId} was already stopped` : `run ${out.runId} stopped${out.via === "backend" ? " (its process was gone; torn down through the backend)" : ""}`);
    });
  },
});
