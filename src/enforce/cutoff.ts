/**
 * Carrying out the cutoff policy once a run's governing budget is used up, and the control commands sent
 * from `bottle budget cutoff|restore` or the dashboard. The action is recorded in the ledger first, in one
 * transaction that also checks no earlier action already stopped the run (so two requests settling at once
 * act once); admission refuses every request of a run whose last control action is cutoff, freeze, kill or
 * stop. Freeze, kill and stop (`bottle stop`: a clean teardown asked for by the user) then go through the
 * backend's RunControl. If that fails the run stays cut off, and the
 * failure is recorded next to the action.
 */
import { log } from "../log.ts";
import type { ShutdownPolicy } from "../manifest/types.ts";
import { factsOf, type BudgetStanding, type RunBudgetPlan } from "./admission.ts";
import { budgetRefusalMessage } from "./refusal.ts";
import type { RunControl } from "./run-control.ts";
import type { ActionKind, EnforceStore, EnforcementActionRow } from "./store.ts";

const BLOCKING = new Set<ActionKind>(["cutoff", "freeze", "kill", "stop"]);

export function isBlocking(a: EnforcementActionRow | undefined): boolean {
  return !!a && BLOCKING.has(a.kind);
}

/** Whether `row` changes nothing after `last`: a repeated block, a restore of a live run, a second teardown. */
function redundant(row: EnforcementActionRow, last: EnforcementActionRow | undefined): boolean {
  // A user's stop still tears down a run that a budget only cut off (or froze in place).
  if (row.kind === "stop") return last?.kind === "stop" || last?.kind === "kill";
  // A user may escalate by hand (the dashboard's f and k keys): a run that is only cut off can still be
  // frozen or killed, and one frozen in place can still be killed.
  if (row.trigger === "user" && row.kind === "kill") return last?.kind === "kill" || last?.kind === "stop";
  if (row.trigger === "user" && row.kind === "freeze") return last?.kind === "freeze" || last?.kind === "kill" || last?.kind === "stop";
  return BLOCKING.has(row.kind) ? isBlocking(last) : !isBlocking(last);
}

/** Records `row` unless it changes nothing (see `redundant`). */
async function recordOnce(store: EnforceStore, row: EnforcementActionRow): Promise<boolean> {
  return store.transaction(async (tx) => {
    if (redundant(row, await tx.lastControlAction(row.runId))) return false;
    await tx.recordAction(row);
    return true;
  });
}

async function act(control: RunControl | undefined, store: EnforceStore, row: EnforcementActionRow): Promise<void> {
  if (row.kind !== "freeze" && row.kind !== "kill" && row.kind !== "stop") return;
  try {
    if (!control) throw new Error("this run has no backend control");
    const reason = row.detail ?? "";
    if (row.kind === "freeze") await control.freeze(row.runId, reason);
    else if (row.kind === "stop" && control.stop) await control.stop(row.runId, reason);
    else await control.kill(row.runId, reason);
  } catch (e) {
    log.error(`could not ${row.kind} run ${row.runId}: ${String(e)}; it stays cut off`);
    await store.transaction((tx) => tx.recordAction({ ...row, kind: "cutoff", trigger: `${row.trigger}-fallback`, detail: `${row.kind} failed: ${String(e)}`, at: Date.now() }));
  }
}

/** Applies `policy` after `crossed`; returns the recorded action, or undefined if the run was already stopped. */
export async function enforcePolicy(
  store: EnforceStore,
  control: RunControl | undefined,
  plan: RunBudgetPlan,
  policy: ShutdownPolicy,
  crossed: BudgetStanding,
  now = Date.now(),
): Promise<EnforcementActionRow | undefined> {
  const facts = factsOf(crossed, plan.timeZone);
  const row: EnforcementActionRow = {
    runId: plan.runId,
    kind: policy,
    trigger: "budget",
    scope: facts.scope,
    provider: facts.provider,
    used: facts.used,
    limit: facts.limit,
    detail: budgetRefusalMessage(facts),
    at: now,
  };
  if (!(await recordOnce(store, row))) return undefined;
  log.warn(`run ${plan.runId}: ${policy} (${facts.scope}: ${facts.used} of ${facts.limit} ${facts.provider} tokens)`);
  await act(control, store, row);
  return row;
}

export type ControlCommand = "cutoff" | "restore" | "freeze" | "kill" | "stop";

/** Carries out a command addressed to this run (from the ledger's commands table). */
export async function applyCommand(
  store: EnforceStore,
  control: RunControl | undefined,
  runId: string,
  command: ControlCommand,
  by = "user",
): Promise<EnforcementActionRow | undefined> {
  const row: EnforcementActionRow = { runId, kind: command, trigger: by, detail: `${command} by ${by}`, at: Date.now() };
  if (!(await recordOnce(store, row))) return undefined;
  if (command === "restore") {
    await control?.resume?.(runId).catch(() => undefined);
    return row;
  }
  await act(control, store, row);
  return row;
}
