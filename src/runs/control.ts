/**
 * `bottle budget cutoff|restore <run>`: find the run, make sure it is live, then hand the command to the
 * run's owner through the ledger and wait for the outcome (the owner polls and acts within a second). A
 * run already in the asked-for state reports "no change"; a failure on the owner's side is an error.
 */
import { sendControl, type ControlOutcome } from "../enforce/control.ts";
import type { ControlCommand } from "../enforce/cutoff.ts";
import { sqlCommandSender } from "../enforce/sql-store.ts";
import { BudgetError } from "../errors.ts";
import type { LedgerDb } from "../ledger/index.ts";
import { findRun, requireRunning } from "./find.ts";

const VERB: Record<ControlCommand, string> = { cutoff: "cut off", restore: "restore", freeze: "freeze", kill: "kill", stop: "stop" };

export async function controlLiveRun(db: LedgerDb, ref: string, command: ControlCommand, opts: { timeoutMs?: number } = {}): Promise<ControlOutcome> {
  const run = await findRun(db, ref);
  requireRunning(run, VERB[command]);
  const out = await sendControl(sqlCommandSender(db), run.id, command, opts);
  if (out.result.startsWith("error:")) {
    throw new BudgetError(`run ${run.id} could not ${VERB[command]}: ${out.result.slice("error:".length).trim()}`, { key: "run", fix: "see the run's own log for the reason." });
  }
  return out;
}
