/**
 * Finding the run a command names. `bottle ps` shows run ids and labels, so run commands accept either: an
 * exact run id first, then the label of a run that is not over (labels are unique among live runs). A name
 * that matches nothing gets a did-you-mean over recent ids and labels. Commands that act on a live run
 * refuse one that has ended, or is frozen, with the command that would help instead.
 */
import { BudgetError, NotFoundError } from "../errors.ts";
import { getRun, listRuns, type LedgerDb, type RunInfo } from "../ledger/index.ts";
import { didYouMean } from "../util/did-you-mean.ts";

export async function findRun(db: LedgerDb, ref: string): Promise<RunInfo> {
  const byId = await getRun(db, ref);
  if (byId) return byId;
  const runs = await listRuns(db);
  const byLabel = runs.filter((r) => r.state !== "ended" && r.label === ref);
  if (byLabel.length === 1) return byLabel[0]!;
  const guess = didYouMean(ref, [...new Set(runs.slice(0, 200).flatMap((r) => [r.id, r.label]))]);
  throw new NotFoundError(`no run "${ref}" in the ledger`, { key: "run", fix: guess ? `did you mean ${guess}? List runs with \`bottle ps\`.` : "list runs with `bottle ps`." });
}

/** Throws unless the run is running (a command for it would never be read otherwise). */
export function requireRunning(run: RunInfo, what: string): void {
  if (run.state === "ended") {
    const when = run.endedAt ? ` at ${new Date(run.endedAt).toISOString()}` : "";
    throw new BudgetError(`run ${run.id} has ended${when}; there is nothing to ${what}`, { key: "run", fix: "list live runs with `bottle ps`." });
  }
  if (run.state === "frozen") {
    throw new BudgetError(`run ${run.id} is frozen; nothing runs to ${what}`, { key: "run", fix: `bring it back with \`bottle resume ${run.id}\` first.` });
  }
}
