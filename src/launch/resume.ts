/**
 * `bottle resume <run>`: continue a run that is over for now.
 *
 * - A frozen run keeps its id: its snapshot is restored through the backend's `resume` onto a new proxy
 *   listener, a `restore` action is recorded (so admission stops refusing it; its budget is checked again
 *   on the next request), and the agent starts with its provider's resume arguments.
 * - An ended run is continued by a new run with a new id, the same agent, bottles and workspace, and a
 *   copy of the old run's home (where the agent keeps its sessions), so the provider's resume arguments
 *   pick up the last session.
 *
 * The run is rebuilt from its `launch.json` and the ledger, then resolved again, so a bottle or budget
 * edited since applies now; `--budget`, `--shutdown` and `--prompt` may be given anew.
 */
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { listActive } from "../backends/listing.ts";
import { readRecord } from "../backends/state.ts";
import { INSIDE, type BottleHandle } from "../backends/types.ts";
import { applyCommand } from "../enforce/cutoff.ts";
import { pidAlive } from "../enforce/run-control.ts";
import { sqlEnforceStore } from "../enforce/sql-store.ts";
import { NotFoundError, UsageError } from "../errors.ts";
import { endRun, ledgerPath, openLedger, setRunState, type RunInfo } from "../ledger/index.ts";
import { findRun } from "../runs/find.ts";
import { loadSettings } from "../manifest/index.ts";
import type { ShutdownPolicy } from "../manifest/types.ts";
import { bottleHome, runDir } from "../paths.ts";
import { log } from "../log.ts";
import { markPending } from "../provenance/index.ts";
import { readRequestFile, writeRequestFile } from "./request-file.ts";
import { resolveLaunch } from "./resolve.ts";
import { finishRun, launch, runAgent } from "./run.ts";
import { openServices } from "./services.ts";
import type { LaunchOptions, LaunchPlan, LaunchRequest, RunOutcome } from "./types.ts";

export interface ResumeRequest {
  runId: string;
  /** Headless: the next prompt. Without one the agent is attached to the terminal. */
  prompt?: string;
  headless: boolean;
  /** `--stdin`: the agent reads bottle's stdin (never carried over from the run being resumed). */
  stdin?: boolean;
  budget?: number;
  shutdown?: ShutdownPolicy;
}

async function lookup(runId: string, home: string): Promise<{ run: RunInfo; request: LaunchRequest }> {
  const db = await openLedger({ path: ledgerPath(loadSettings(home), home) });
  try {
    // An id, or a label: the live run holding it, else the latest run that had it.
    const run = await findRun(db, runId);
    const request: LaunchRequest = readRequestFile(run.id, home) ?? { agent: run.agent, bottles: run.bottles, label: run.label, headless: true };
    return { run, request };
  } finally {
    await db.destroy();
  }
}

/** The ledger stops showing a crashed run as running: it ended when its owner died (`stop_reason` crashed). */
async function markCrashed(runId: string, home: string): Promise<void> {
  const db = await openLedger({ path: ledgerPath(loadSettings(home), home) });
  try {
    await endRun(db, runId, { stopReason: "crashed" });
    log.info(`bottle: run ${runId} had no live owner; it is recorded as ended (crashed)`);
  } finally {
    await db.destroy();
  }
}

/** The saved request with what this resume changes: mode, prompt, and budget or policy given anew. */
function nextRequest(saved: LaunchRequest, r: ResumeRequest): LaunchRequest {
  const { prompt: _old, stdin: _oldStdin, ...rest } = saved;
  return {
    ...rest,
    headless: r.headless,
    ...(r.prompt !== undefined ? { prompt: r.prompt } : {}),
    ...(r.stdin ? { stdin: true } : {}),
    ...(r.budget !== undefined ? { budget: r.budget } : {}),
    ...(r.shutdown ? { shutdown: r.shutdown } : {}),
  };
}

async function resumeFrozen(plan: LaunchPlan, o: LaunchOptions): Promise<RunOutcome> {
  const rec = readRecord(plan.runId, plan.home);
  if (!rec?.snapshot) throw new NotFoundError(`run ${plan.runId} is marked frozen but has no snapshot`, { fix: `its state is missing under ${runDir(plan.runId, plan.home)}` });
  const snapshot = rec.snapshot;
  const since = Date.now();
  const env = o.env ?? process.env;
  const s = await openServices(plan, {
    env,
    async onLedger(db) {
      await setRunState(db, plan.runId, "running", process.pid);
      markPending(plan.home, plan.runId);
      await applyCommand(sqlEnforceStore(db), undefined, plan.runId, "restore", "resume");
    },
  });
  let handle: BottleHandle;
  try {
    handle = await s.backend.resume(snapshot, { proxySocket: s.run.socketPath, caCertPath: s.run.caCertPath });
  } catch (e) {
    await setRunState(s.db, plan.runId, "frozen", null).catch(() => undefined);
    await s.close();
    throw e;
  }
  // What this stretch runs under (a new --budget, --shutdown): `budget show` and the dashboard read it here.
  writeRequestFile(plan);
  log.info(`bottle: resuming frozen run ${plan.runId} from its snapshot`);
  return finishRun(s, plan, handle, await runAgent(s, plan, handle, o, true), since);
}

/** A new run in a fresh bottle that starts from the ended run's home (and copied workspace). */
function continueEnded(plan: LaunchPlan, old: RunInfo, oldHandle: BottleHandle, o: LaunchOptions): Promise<RunOutcome> {
  return launch(plan, o, {
    async prepare(s, handle) {
      // The old home on top of the freshly provisioned one: the agent's sessions, and whatever it kept there.
      if (existsSync(oldHandle.hostHome)) await s.backend.copyIn(handle, oldHandle.hostHome, INSIDE.home);
      if (plan.workspace === "copy" && existsSync(oldHandle.hostWorkspace)) await s.backend.copyIn(handle, oldHandle.hostWorkspace, handle.workspace);
      log.info(`bottle: continuing ended run ${old.id} as run ${plan.runId}`);
    },
  });
}

export async function resumeRun(asked: ResumeRequest, o: LaunchOptions & { home?: string } = {}): Promise<RunOutcome> {
  const home = o.home ?? bottleHome();
  const { run, request } = await lookup(asked.runId, home);
  const r: ResumeRequest = { ...asked, runId: run.id };
  if (r.headless && (r.prompt === undefined || r.prompt.trim() === "")) {
    throw new UsageError("a headless resume needs --prompt", { key: "--prompt", fix: `bottle resume ${r.runId} --headless --prompt "…"` });
  }
  const rec = readRecord(r.runId, home);
  // A run whose owner died without ending it (a crash, a reboot) is as over as an ended one.
  const crashed = run.state === "running" && run.host === hostname() && (run.pid === null || !pidAlive(run.pid));
  if (run.state === "running" && !crashed) {
    throw new UsageError(`run ${r.runId} is still running${run.pid ? ` (pid ${run.pid})` : ""}`, { key: "run", fix: "only frozen or ended runs can be resumed; see `bottle ps`" });
  }
  const deps = { home, ...(o.env ? { env: o.env } : {}) };
  if (run.state === "frozen") {
    const others = async () => (await listActive(home)).filter((b) => b.runId !== r.runId).map((b) => b.label);
    const plan = await resolveLaunch(nextRequest(request, r), { ...deps, runId: r.runId, activeLabels: others });
    return resumeFrozen(plan, o);
  }
  if (crashed) await markCrashed(r.runId, home);
  if (!rec) throw new NotFoundError(`run ${r.runId} has no saved home to continue from`, { fix: `its state under ${runDir(r.runId, home)} is gone; start a new run with \`bottle run\`` });
  if (!existsSync(rec.handle.hostHome)) {
    throw new NotFoundError(`run ${r.runId} was killed, and a kill saves nothing to continue from`, { key: "run", fix: "start a new run with `bottle run`" });
  }
  const plan = await resolveLaunch(nextRequest(request, r), deps);
  return continueEnded({ ...plan, resumeOf: r.runId }, run, rec.handle, o);
}
