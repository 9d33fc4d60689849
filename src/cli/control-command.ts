/**
 * `bottle budget cutoff` and `bottle budget restore` are one command with two verbs: send the command to
 * the live run through the ledger, wait for the run to act, report `done` or `no change`.
 */
import { defineCommand } from "citty";
import { log } from "../log.ts";
import { controlLiveRun } from "../runs/control.ts";
import { printJson, withLedger } from "./ledger-session.ts";
import { runArg, runRef } from "./run-arg.ts";

export interface ControlVerb {
  command: "cutoff" | "restore";
  description: string;
  /** What the log says after the run acted, and when it was already so. */
  done: string;
  unchanged: string;
}

export function controlCommand(v: ControlVerb) {
  return defineCommand({
    meta: { name: v.command, description: v.description },
    args: {
      run: runArg,
      json: { type: "boolean", description: "Print {runId, command, result} as JSON; result is done or no change." },
    },
    run({ args }) {
      const ref = runRef(args.run, `bottle budget ${v.command} <run>`);
      return withLedger(async ({ db }) => {
        const out = await controlLiveRun(db, ref, v.command);
        if (args.json) printJson(out);
        else log.info(`run ${out.runId} ${out.result === "done" ? v.done : `${v.unchanged}; nothing changed`}`);
      });
    },
  });
}
