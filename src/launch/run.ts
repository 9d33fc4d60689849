/**
 * `launch`: a resolved plan carried out, start to finish. The run is registered in the ledger before its
 * proxy listener opens (every usage row has a run to hang off); the bottle is created on that listener,
 * provisioned with the agent's skills and prompt, and the agent is started headless (inherited stdio, the
 * provider's prompt arguments) or attached to a PTY. When the agent exits, its listener closes first (no
 * egress after the end), a freeze in progress is waited for, the ledger is flushed, and the run is marked
 * ended (or frozen, keeping its snapshot for `bottle resume`) before the bottle is torn down.
 */
import { resolveEnvPrompts } from "../backends/env-prompts.ts";
import { rmSync } from "node:fs";
import { readRecord } from "../backends/state.ts";
import type { BottleHandle, RunningProcess } from "../backends/types.ts";
import { endRun, setRunState, type LedgerDb } from "../ledger/index.ts";
import { holdLogs, log } from "../log.ts";
import { providerFor } from "../providers/index.ts";
import { buildPlan } from "../providers/plan.ts";
import { provisionAgent } from "../providers/provision.ts";
import { sqlStoreOn } from "../enforce/sql-store.ts";
import type { EnforcementActionRow } from "../enforce/store.ts";
import { labelSlug, registerLabelled } from "./label.ts";
import { readOutcome } from "./outcome.ts";
import { finishPending, makeRecord, recordOpening, trailCommits, writeOpening } from "../provenance/index.ts";
import { writeRequestFile } from "./request-file.ts";
import { setTerminalTitle } from "./terminal-title.ts";
import { openServices, type RunServices } from "./services.ts";
import type { LaunchOptions, LaunchPlan, RunOutcome } from "./types.ts";

/** Signals that end the agent (and then the run, cleanly) instead of killing bottle mid-cleanup. */
const FORWARDED: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** Runs `proc` to its end; a signal to bottle is passed on to it. */
export async function waitForAgent(proc: RunningProcess): Promise<{ exitCode: number; signal?: string }> {
  const handlers = FORWARDED.map((s) => {
    const h = () => proc.kill(s);
    process.on(s, h);
    return [s, h] as const;
  });
  try {
    const r = await proc.exited;
    return { exitCode: r.exitCode, ...(r.signal ? { signal: r.signal } : {}) };
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
  }
}

/**
 * What ended this stretch of the run, whoever asked: the last freeze, kill or stop recorded since `since`
 * (a budget's policy, the dashboard's f and k keys, `bottle stop`). A freeze or kill that failed is followed
 * by its `cutoff` fallback, so it does not count. A read: no write lock is taken.
 */
async function lastStop(db: LedgerDb, runId: string, since: number): Promise<EnforcementActionRow | undefined> {
  const last = await sqlStoreOn(db).transaction((tx) => tx.lastControlAction(runId));
  return last && last.at >= since && (last.kind === "freeze" || last.kind === "kill" || last.kind === "stop") ? last : undefined;
}

/** After the agent died of a freeze (a budget's or a user's), the backend is still saving; wait (bounded) for its snapshot. */
async function frozenSnapshot(plan: LaunchPlan, stop: EnforcementActionRow | undefined): Promise<boolean> {
  if (stop?.kind !== "freeze") return false;
  for (let i = 0; i < 600; i++) {
    if (readRecord(plan.runId, plan.home)?.snapshot) return true;
    await Bun.sleep(50);
  }
  log.warn(`run ${plan.runId}: the freeze did not finish saving within 30 s; the run is ended instead`);
  return false;
}

/**
 * A kill saves nothing (DESIGN §2): once the bottle is down, the run's home (the agent's sessions) and a
 * copied workspace are deleted, so nothing is left to resume. launch.json and the state record stay: they
 * say what the run was.
 */
function discardRunState(handle: BottleHandle): void {
  rmSync(handle.hostHome, { recursive: true, force: true });
  if (handle.plan.workspace === "copy") rmSync(handle.hostWorkspace, { recursive: true, force: true });
}

/**
 * Closes the run after its agent exited; returns the outcome. Shared by launch and resume; `since` is when
 * this stretch of the run started (a resumed run was stopped before, and that stop is history).
 */
export async function finishRun(s: RunServices, plan: LaunchPlan, handle: BottleHandle, exit: { exitCode: number; signal?: string }, since: number): Promise<RunOutcome> {
  try {
    await s.run.close();
    const stop = await lastStop(s.db, plan.runId, since);
    const frozen = await frozenSnapshot(plan, stop);
    await s.ledger.flush();
    await s.enforcement.stop();
    const read = await readOutcome(s.db, plan.runId, exit.exitCode, frozen, since);
    // No policy stopped the run, but its last model request was refused: the budget ended it all the same.
    const refused = read.stoppedBy ? undefined : s.enforcement.lastRefusal();
    const outcome = refused ? { ...read, refused } : read;
    const byUser = stop && !stop.trigger.startsWith("budget") ? (stop.kind as "freeze" | "kill" | "stop") : undefined;
    if (frozen) {
      await setRunState(s.db, plan.runId, "frozen", null);
    } else {
      const reason = outcome.stoppedBy || outcome.refused ? "budget" : byUser ? "user" : exit.signal ? "signal" : undefined;
      await endRun(s.db, plan.runId, { exitCode: exit.exitCode, ...(reason ? { stopReason: reason } : {}) });
      await s.backend.teardown(handle);
    }
    // The record reads the workspace as the run left it, so it is made before a kill discards a copy.
    const record = await recordRun(s, plan);
    if (!frozen && stop?.kind === "kill") discardRunState(handle);
    const killed = !frozen && stop?.kind === "kill";
    const { resumeCommand: _r, ...rest } = outcome;
    return { ...rest, ...(record ? { record } : {}), ...(killed ? { killed: true } : { resumeCommand: outcome.resumeCommand }), ...(byUser ? { stoppedByUser: byUser } : {}) };
  } finally {
    await s.close();
  }
}

/** The run's provenance record, signed; a failure to make it is reported, never the end of the run's own outcome. */
async function recordRun(s: RunServices, plan: LaunchPlan): Promise<RunOutcome["record"]> {
  try {
    const t0 = performance.now();
    const made = await makeRecord(s.db, plan.home, plan.runId, "run-end");
    log.debug(`run ${plan.runId}: provenance record made and signed in ${(performance.now() - t0).toFixed(1)} ms`);
    if (plan.request.trailer) {
      const t = trailCommits(plan.home, made);
      log.info(t ? `bottle: ${t.commits.length} commit${t.commits.length === 1 ? "" : "s"} of this run now carry its trailer (head ${t.head.slice(0, 12)})` : "bottle: --trailer: the agent made no commit in this run");
    }
    return { path: made.path, hash: made.hash };
  } catch (e) {
    log.warn(`bottle: run ${plan.runId}: its provenance record could not be written: ${(e as Error).message}`);
    return undefined;
  }
}

/** Before the agent starts: the record's opening (and the records of runs whose process died). */
export async function openRecord(s: RunServices, plan: LaunchPlan, hostPath: string | undefined): Promise<void> {
  await finishPending(s.db, plan.home);
  writeOpening(
    plan.home,
    recordOpening({ plan, routes: s.routes, ...(s.sim ? { simulatorUrl: s.sim.url } : {}), answeredEnv: plan.pendingEnv.map((p) => p.name), ...(hostPath ? { hostPath } : {}) }),
  );
}

/** Starts the agent of `plan` in `handle` and waits for it. */
export async function runAgent(s: RunServices, plan: LaunchPlan, handle: BottleHandle, o: LaunchOptions, resume = false): Promise<{ exitCode: number; signal?: string }> {
  const argv = providerFor(plan.provider).argv({
    ...(plan.agent.model ? { model: plan.agent.model } : {}),
    ...(plan.headless && plan.prompt !== undefined ? { prompt: plan.prompt } : {}),
    ...(resume ? { resume: true } : {}),
  });
  log.info(`bottle: run ${plan.runId} (${plan.label}): ${plan.agent.name} in ${plan.bottle.requested.join(", ")} on ${plan.backend.name}${plan.headless ? ", headless" : ""}`);
  // Headless, the prompt is in argv: the agent gets bottle's stdin only when the user asked (--stdin).
  const attach = o.attach ?? (plan.headless ? (plan.request.stdin ? "inherit" : "output") : "pty");
  // On a PTY the agent draws its own screen: hold bottle's log lines (denials, metering) until it exits.
  const held = attach === "pty" ? holdLogs() : undefined;
  // …and the terminal's title names the run, so several attached runs can be told apart by their tabs.
  const titled = attach === "pty" && process.stdout.isTTY ? setTerminalTitle(plan.label) : undefined;
  try {
    return await waitForAgent(s.backend.exec(handle, argv, { attach }));
  } finally {
    titled?.restore();
    held?.release();
  }
}

/** What `bottle resume` adds to a launch that continues an ended run. */
export interface ContinueFrom {
  /** Called after provisioning, before the agent starts (copy the old run's home in). */
  prepare(s: RunServices, handle: BottleHandle): Promise<void>;
}

export async function launch(plan: LaunchPlan, o: LaunchOptions = {}, from?: ContinueFrom): Promise<RunOutcome> {
  const since = Date.now();
  const env = o.env ?? process.env;
  const hostEnv = { ...env, ...(plan.request.envAnswers ?? {}) };
  const bottleEnv = await resolveEnvPrompts(plan.env, { interactive: false, hostEnv, origin: plan.bottle.envOrigin });
  const s = await openServices(plan, {
    env: hostEnv,
    async onLedger(db) {
      // The label is claimed in the transaction that registers the run: concurrent launches get distinct ones.
      plan.label = await registerLabelled(
        db,
        {
          id: plan.runId,
          ...(plan.color ? { color: plan.color } : {}),
          agent: plan.agent.name,
          provider: plan.provider,
          bottles: plan.bottle.requested,
          chain: plan.bottle.chain,
          backend: plan.backend.name,
        },
        plan.requestedLabel,
        plan.labelsInUse,
      );
      if (labelSlug(plan.label) !== labelSlug(plan.requestedLabel)) log.info(`bottle: label ${plan.requestedLabel} is in use; this run is ${plan.label}`);
    },
  });
  let handle: BottleHandle | undefined;
  let exit: { exitCode: number; signal?: string };
  try {
    writeRequestFile(plan);
    const hostPath = o.hostPath ?? env.PATH;
    await openRecord(s, plan, hostPath);
    handle = await s.backend.create(
      buildPlan({
        runId: plan.runId,
        label: plan.label,
        agent: plan.agent.name,
        provider: plan.provider,
        backend: plan.backend.name,
        cwd: plan.cwd,
        workspace: plan.workspace,
        proxy: { socketPath: s.run.socketPath, caCertPath: s.run.caCertPath },
        env: bottleEnv,
        ...(plan.bottle.backend.image ? { image: plan.bottle.backend.image } : {}),
        ...(plan.bottle.backend.pids ? { pidsLimit: plan.bottle.backend.pids } : {}),
        ...(hostPath ? { hostPath } : {}),
      }),
    );
    await provisionAgent(s.backend, handle, providerFor(plan.provider), { skills: plan.agent.skills, prompt: plan.agent.prompt, file: plan.agent.file }, plan.home);
    if (from) await from.prepare(s, handle);
    exit = await runAgent(s, plan, handle, o, !!from);
  } catch (e) {
    await endRun(s.db, plan.runId, { stopReason: "error" }).catch(() => undefined);
    if (handle) await s.backend.teardown(handle).catch(() => undefined);
    await recordRun(s, plan);
    await s.close();
    throw e;
  }
  return finishRun(s, plan, handle, exit, since);
}
