/**
 * Sending a control command to a live run and waiting for it to act. The command goes into the ledger; the
 * run's poller carries it out within a second (src/enforce/command-poller.ts). A run that is unknown, or
 * whose process is gone, is an error right away rather than a command nobody will read.
 */
import { NotFoundError, BudgetError } from "../errors.ts";
import { hostName } from "../host-name.ts";
import type { ControlCommand } from "./cutoff.ts";
import { pidAlive } from "./run-control.ts";
import type { CommandSender } from "./store.ts";

export interface ControlOutcome {
  runId: string;
  command: ControlCommand;
  /** "done", "no change" (already in that state) or "error: …". */
  result: string;
}

export async function sendControl(
  sender: CommandSender,
  runId: string,
  command: ControlCommand,
  opts: { timeoutMs?: number; isAlive?: (pid: number) => boolean; hostName?: string } = {},
): Promise<ControlOutcome> {
  const owner = await sender.runOwner(runId);
  if (!owner) throw new NotFoundError(`run ${runId} is not in the ledger`, { key: "run", fix: "list runs with `bottle ps`." });
  // A run on another host sharing a fleet ledger is that host's to judge: its poller takes the command.
  const here = owner.host === undefined || owner.host === null || owner.host === (opts.hostName ?? hostName());
  if (here && owner.pid !== null && !(opts.isAlive ?? pidAlive)(owner.pid)) {
    throw new BudgetError(`run ${runId} is not live (its process ${owner.pid} has ended)`, { key: "run", fix: "only a live run takes commands; list them with `bottle ps`." });
  }
  const id = await sender.enqueue(runId, command, Date.now());
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  while (Date.now() < deadline) {
    const o = await sender.outcome(id);
    if (o) return { runId, command, result: o.result };
    await Bun.sleep(50);
  }
  throw new BudgetError(`run ${runId} did not act on \`${command}\` in time`, {
    key: "run",
    fix: "the command stays queued and the run carries it out when it next polls; check again with `bottle budget show`.",
  });
}
