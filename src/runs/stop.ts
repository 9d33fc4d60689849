/**
 * `bottle stop <run>`. The process that owns a run holds its proxy, its ledger connection and its bottle, so
 * the clean way to stop it is to ask that process: a `stop` command goes into the ledger's command queue, the
 * owner's poller records the action, tears the bottle down through its RunControl and the launch ends as it
 * would when the agent exits. If the owner is gone (crashed, killed) nobody reads the queue, so the bottle
 * (a container, or sandbox processes that outlived it) is torn down here through its backend, found in the
 * run's state file, and the stop is recorded in the ledger on the owner's behalf.
 */
import { createBackend } from "../backends/select.ts";
import { readRecord } from "../backends/state.ts";
import { sendControl } from "../enforce/control.ts";
import { pidAlive } from "../enforce/run-control.ts";
import type { CommandSender, EnforceStore } from "../enforce/store.ts";
import { BackendError, NotFoundError } from "../errors.ts";

export interface StopOutcome {
  runId: string;
  /** owner: the owning process carried the stop out; backend: torn down here, the owner being gone. */
  via: "owner" | "backend";
  /** "done", or "no change" when the owner had already stopped the run. */
  result: string;
}

export interface StopDeps {
  sender: CommandSender;
  store: EnforceStore;
  /** Tears down the run's bottle if one is still up; false when there is nothing left to stop. */
  teardown?: (runId: string) => Promise<boolean>;
  isAlive?: (pid: number) => boolean;
  timeoutMs?: number;
  home?: string;
}

/** The run's bottle, torn down through its own backend when it still runs or holds a container. */
export async function teardownThroughBackend(runId: string, home?: string): Promise<boolean> {
  const rec = readRecord(runId, home);
  if (!rec || rec.tornDown) return false;
  const backend = createBackend(rec.handle.backend, home);
  const active = (await backend.list()).find((b) => b.runId === runId);
  if (!active || active.state !== "running") return false;
  await backend.teardown(rec.handle);
  return true;
}

export async function stopRun(deps: StopDeps, runId: string): Promise<StopOutcome> {
  const owner = await deps.sender.runOwner(runId);
  if (!owner) throw new NotFoundError(`run ${runId} is not in the ledger`, { key: "run", fix: "list runs with `bottle ps`." });
  const alive = deps.isAlive ?? pidAlive;
  if (owner.pid === null || alive(owner.pid)) {
    const o = await sendControl(deps.sender, runId, "stop", { ...(deps.timeoutMs ? { timeoutMs: deps.timeoutMs } : {}), isAlive: alive });
    if (o.result.startsWith("error:")) throw new BackendError(`run ${runId} could not stop: ${o.result.slice(7).trim()}`, { key: "run", fix: "check `bottle ps`; the run stays cut off." });
    return { runId, via: "owner", result: o.result };
  }
  const teardown = deps.teardown ?? ((id: string) => teardownThroughBackend(id, deps.home));
  if (!(await teardown(runId))) {
    throw new NotFoundError(`run ${runId} is not running (its process ${owner.pid} has ended and it has no bottle left)`, { key: "run", fix: "list live runs with `bottle ps`." });
  }
  const now = Date.now();
  await deps.store.transaction(async (tx) => {
    if ((await tx.lastControlAction(runId))?.kind === "stop") return;
    await tx.recordAction({ runId, kind: "stop", trigger: "user", detail: `stop by user: its process ${owner.pid} was gone, torn down through the backend`, at: now });
  });
  return { runId, via: "backend", result: "done" };
}
