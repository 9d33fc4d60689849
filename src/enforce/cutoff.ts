/**
 * Carrying out the cutoff policy once a run's governing budget is used up, and the control commands sent
 * from `bottle budget cutoff|restore` or the dashboard. The action is recorded in the ledger first, in one
 * transaction that also checks no earlier action already stopped the run (so two requests settling at once
 * act once); admission refuses every request of a run whose last control action is cutoff, freeze or kill.
 * Freeze and kill then go through the backend's RunControl. If that fails the run stays cut off, and the
 * failure is recorded next to the action.
 */
import { log } from "../log.ts";
import type { ShutdownPolicy } from "../manifest/types.ts";
import { factsOf, type BudgetStanding, type RunBudgetPlan } from "./admission.ts";
import { budgetRefusalMessage } from "./refusal.ts";
import type { RunControl } from "./run-control.ts";
import type { ActionKind, EnforceStore, EnforcementActionRow } from "./store.ts";

const BLOCKING = new Set<ActionKind>(["cutoff", "freeze", "kill"]);

export function isBlocking(a: EnforcementActionRow | undefined): boolean {
  return !!a && BLOCKING.has(a.kind);
}

/** Records `row` unless the run is already stopped (for stops) or already live (for restores). */
async function recordOnce(store: EnforceStore, row: EnforcementActionRow): Promise<boolean> {
  return store.transaction(async (tx) => {
    const last = await tx.lastControlAction(row.runId);
    const stopping = BLOCKING.has(row.kind);
    if (stopping ? isBlocking(last) : !isBlocking(last)) return false;
    await tx.recordAction(row);
    return true;
  });
}

async function act(control: RunControl | undefined, store: EnforceStore, row: EnforcementActionRow): Promise<void> {
  if (row.kind !== "freeze" && row.kind !== "kill") return;
  try {
    if (!control) throw new Error("this run has no backend control");
    await (row.kind === "freeze" ? control.freeze(row.runId, row.detail ?? "") : control.kill(row.runId, row.detail ?? ""));
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

export type ControlCommand = "cutoff" | "restore" | "freeze" | "kill";

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
