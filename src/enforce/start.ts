/**
 * Enforcement for one run, started by the process that owns the run: release what crashed runs left
 * reserved, start polling the ledger for control commands, and return the hooks to compose after metering
 * (composeHooks(meteringHooks, enforcement.hooks)). `stop()` ends the polling when the run ends.
 */
import type { ShutdownPolicy } from "../manifest/types.ts";
import type { ProxyHooks } from "../proxy/hooks.ts";
import type { RunBudgetPlan } from "./admission.ts";
import { startCommandPoller } from "./command-poller.ts";
import { withControlCache } from "./control-cache.ts";
import type { FetchLike } from "./count-tokens.ts";
import { composeHooks } from "./compose-hooks.ts";
import { budgetHooks } from "./hooks.ts";
import { LastRefusal } from "./last-refusal.ts";
import { pathPolicyHooks } from "./path-hooks.ts";
import { releaseStaleReservations } from "./recovery.ts";
import type { RunControl } from "./run-control.ts";
import type { CommandQueue, EnforceStore } from "./store.ts";

export interface EnforcementOptions {
  store: EnforceStore;
  queue: CommandQueue;
  plan: RunBudgetPlan;
  policy: ShutdownPolicy;
  control?: RunControl;
  fetcher?: FetchLike;
  env?: Record<string, string | undefined>;
  /** Why usage cannot be recorded right now (the run's ledger writer); admission refuses while set. */
  ledgerProblem?: () => { file: string; cause: string } | undefined;
}

export interface Enforcement {
  hooks: ProxyHooks;
  /** The budget refusal the run's last model request got, if it was refused (the run then exits 75). */
  lastRefusal(): string | undefined;
  /** Ends the command polling; resolves once a command being carried out is marked done. */
  stop(): Promise<void>;
}

export async function startEnforcement(o: EnforcementOptions): Promise<Enforcement> {
  await releaseStaleReservations(o.store);
  // The run's control state lives in memory from here on (every action of this run is recorded through it).
  const store = withControlCache(o.store, o.plan.runId);
  await store.lastControlAction!(o.plan.runId);
  const stop = startCommandPoller(store, o.queue, o.plan.runId, o.control);
  const refusals = new LastRefusal();
  const budgets = budgetHooks({
    refusals,
    store,
    plan: o.plan,
    policy: o.policy,
    ...(o.control ? { control: o.control } : {}),
    ...(o.fetcher ? { fetcher: o.fetcher } : {}),
    ...(o.env ? { env: o.env } : {}),
    ...(o.ledgerProblem ? { ledgerProblem: o.ledgerProblem } : {}),
  });
  // The path policy first: a request bottle cannot meter is refused before any budget is consulted.
  return { hooks: composeHooks(pathPolicyHooks(), budgets), stop, lastRefusal: () => refusals.last };
}
