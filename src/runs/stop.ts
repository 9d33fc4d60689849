/**
 * `bottle stop <run>`. The process that owns a run holds its proxy, its ledger connection and its bottle, so
 * the clean way to stop it is to ask that process: a `stop` command goes into the ledger's command queue, the
 * owner's poller records the action and tears the bottle down through its RunControl, and the launch then
 * ends as it does when the agent exits. If the owner is gone (crashed, killed) nobody reads the queue, so the
 * bottle (a container, or sandbox processes that outlived it) is torn down here through its backend, found
 * in the run's state file, and the stop is recorded and the run ended in the ledger on the owner's behalf.
 * A frozen run is stopped the same way, and what its freeze kept is dropped (discardFrozen).
 */
import { createBackend } from "../backends/select.ts";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { readRecord, updateRecord } from "../backends/state.ts";
import { sendControl } from "../enforce/control.ts";
import { pidAlive } from "../enforce/run-control.ts";
import { hostName } from "../host-name.ts";
import { sqlCommandSender, sqlEnforceStore } from "../enforce/sql-store.ts";
import { BackendError, NotFoundError } from "../errors.ts";
import { endRun, type LedgerDb } from "../ledger/index.ts";
import { runDir } from "../paths.ts";
import { findRun } from "./find.ts";

export interface StopOutcome {
  runId: string;
  /** owner: the owning process carried the stop out; backend: torn down here, the owner being gone. */
  via: "owner" | "backend";
  /** "done", or "no change" when the owner had already stopped the run. */
  result: string;
}

export interface StopOptions {
  /** Tears down the run's bottle if one is still up; false when there is nothing left to stop. */
  teardown?: (runId: string) => Promise<boolean>;
  isAlive?: (pid: number) => boolean;
  timeoutMs?: number;
  home?: string;
}

/** The run's bottle, torn down through its own backend when it still runs. */
export async function teardownThroughBackend(runId: string, home?: string): Promise<boolean> {
  const rec = readRecord(runId, home);
  if (!rec || rec.tornDown) return false;
  const backend = createBackend(rec.handle.backend, home);
  const active = (await backend.list()).find((b) => b.runId === runId);
  if (!active || active.state !== "running") return false;
  await backend.teardown(rec.handle);
  return true;
}

/**
 * A frozen run has no process to ask: stopping it drops what the freeze kept (the sandbox's saved home, the
 * docker snapshot image) through its backend, so nothing frozen is left behind. The run's home stays, as
 * after any stop, so `bottle resume` can still continue it as an ended run.
 */
export async function discardFrozen(runId: string, home?: string): Promise<boolean> {
  const rec = readRecord(runId, home);
  if (!rec?.snapshot) return false;
  const snapshot = rec.snapshot;
  updateRecord(runId, (r) => ({ ...r, snapshot: undefined }), home);
  // Teardown of a record without a snapshot removes the run's snapshot images (docker) and processes.
  await createBackend(rec.handle.backend, home).teardown(rec.handle);
  rmSync(join(runDir(runId, home), "snapshot"), { recursive: true, force: true });
  if (snapshot.backend === "sandbox") rmSync(snapshot.ref, { recursive: true, force: true });
  return true;
}

export async function stopRun(db: LedgerDb, ref: string, o: StopOptions = {}): Promise<StopOutcome> {
  const run = await findRun(db, ref);
  const alive = o.isAlive ?? pidAlive;
  // A run owned by another host (fleet ledger) is that host's to stop: its poller takes the command.
  const elsewhere = run.host !== null && run.host !== hostName();
  const ownerLive = run.state === "running" && (run.pid === null || elsewhere || alive(run.pid));
  if (ownerLive) {
    const out = await sendControl(sqlCommandSender(db), run.id, "stop", { isAlive: alive, ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) });
    if (out.result.startsWith("error:")) throw new BackendError(`run ${run.id} could not stop: ${out.result.slice(6).trim()}`, { key: "run", fix: "check `bottle ps`; the run stays cut off." });
    return { runId: run.id, via: "owner", result: out.result };
  }
  const teardown = o.teardown ?? ((id: string) => (run.state === "frozen" ? discardFrozen(id, o.home) : teardownThroughBackend(id, o.home)));
  if (!(await teardown(run.id))) {
    const why = run.state === "ended" ? "it has ended" : run.state === "frozen" ? "it is frozen" : `its process ${run.pid} has ended`;
    throw new NotFoundError(`run ${run.id} is not running (${why}, and no bottle of it is left)`, { key: "run", fix: "list live runs with `bottle ps`." });
  }
  const now = Date.now();
  await sqlEnforceStore(db).transaction(async (tx) => {
    if ((await tx.lastControlAction(run.id))?.kind === "stop") return;
    await tx.recordAction({ runId: run.id, kind: "stop", trigger: "user", detail: `stop by user: the owning process${run.pid ? ` ${run.pid}` : ""} was gone, torn down through the backend`, at: now });
  });
  if (run.state !== "ended") await endRun(db, run.id, { stopReason: "user", at: now });
  return { runId: run.id, via: "backend", result: "done" };
}
