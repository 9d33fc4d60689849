/**
 * What `bottle run` and `bottle resume` print when the agent is done (stderr, so stdout stays the agent's):
 * the usage totals, the one-line reason when a budget stopped the run, and the exact command that
 * continues it. Returns the process exit code.
 */
import { exitCodeFor, stopLine, usageLine, userStopLine, type RunOutcome } from "../launch/index.ts";

export function reportOutcome(outcome: RunOutcome, err: (line: string) => void = (s) => void process.stderr.write(`${s}\n`)): number {
  err(usageLine(outcome));
  const stop = stopLine(outcome);
  if (stop) err(stop);
  else if (outcome.stoppedByUser) err(userStopLine(outcome));
  // A kill saves nothing, so there is nothing to continue.
  if (outcome.resumeCommand) err(`bottle: to continue this run: ${outcome.resumeCommand}`);
  return exitCodeFor(outcome);
}
