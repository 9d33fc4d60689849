/**
 * `bottle budget cutoff <run> [--json]`: sent to the live run through the ledger; the run's own process acts
 * (within a second) and this command waits for the outcome.
 */
import { controlCommand } from "../../control-command.ts";

export default controlCommand({
  command: "cutoff",
  description: "Cut a live run off: its proxy refuses every further model request until restored.",
  done: "is cut off: every further model request is refused",
  unchanged: "was already cut off",
});
