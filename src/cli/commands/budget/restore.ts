/**
 * `bottle budget restore <run> [--json]`: undo a cutoff (by a user or a budget) on a live run, through the
 * ledger; requests are admitted again, still within the run's budget.
 */
import { controlCommand } from "../../control-command.ts";

export default controlCommand({
  command: "restore",
  description: "Restore a run that was cut off: its proxy admits requests again (within its budget).",
  done: "is restored: requests are admitted again within its budget",
  unchanged: "was not cut off",
});
