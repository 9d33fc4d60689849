/**
 * Finding the run a command names. `bottle ps` shows run ids and labels, so run commands accept either: an
 * exact run id first, then a label, compared by slug (case folded; see launch/label.ts). A label names the
 * live run that holds it; when no live run does, it names the latest run that had it, so `bottle logs`,
 * `bottle resume` and `budget usage --run` reach ended runs too. Two live runs with one label (a ledger
 * written before labels were claimed atomically, or two hosts) are ambiguous: the error lists their ids.
 * A name that matches nothing gets a did-you-mean over recent ids and labels. Commands that act on a live
 * run refuse one that has ended, or is frozen, with the command that would help instead.
 */
import { BudgetError, NotFoundError, UsageError } from "../errors.ts";
import { labelSlug } from "../launch/label.ts";
import { getRun, listRuns, type LedgerDb, type RunInfo } from "../ledger/index.ts";
import { didYouMean } from "../util/did-you-mean.ts";

export async function findRun(db: LedgerDb, ref: string): Promise<RunInfo> {
  const byId = await getRun(db, ref);
  if (byId) return byId;
  const runs = await listRuns(db); // newest started first
  const slug = labelSlug(ref);
  const named = runs.filter((r) => labelSlug(r.label) === slug);
  const live = named.filter((r) => r.state !== "ended");
  if (live.length === 1) return live[0]!;
  if (live.length > 1) {
    throw new UsageError(`label "${ref}" is held by ${live.length} runs: ${live.map((r) => `${r.id} (${r.state})`).join(", ")}`, { key: "run", fix: "name the run by its id" });
  }
  if (named.length > 0) return named[0]!;
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
