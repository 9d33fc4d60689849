/**
 * What a launch hands to enforcement: from the settings, the agent, the composed bottles and the `--budget`
 * / `--shutdown` flags, the run's governing budget per provider, its cutoff policy and its pre-flight mode,
 * each with where it was set (for the launch summary and `bottle budget show`). Pure.
 */
import { preflightMode, settingsSource, shutdownPolicy, type Sourced } from "../budget/policy.ts";
import { additionalBudgets, effectiveBudgets, layersFor } from "../budget/precedence.ts";
import { PROVIDERS, type AgentManifest, type BottleManifest, type BudgetLayer, type ComposedBottle, type PreflightMode, type Settings, type ShutdownPolicy } from "../manifest/types.ts";
import type { RunBudgetPlan } from "./admission.ts";

export interface LaunchBudgetInput {
  runId: string;
  settings: Settings;
  agent: Pick<AgentManifest, "name" | "file" | "budget" | "shutdown"> & Partial<Pick<AgentManifest, "source" | "shadows">>;
  composed: Pick<ComposedBottle, "budgetLayers" | "requested" | "shutdown" | "preflight">;
  /** The requested bottles' manifests, in order (for where shutdown/preflight were set). */
  bottles?: ReadonlyArray<Pick<BottleManifest, "file" | "shutdown" | "preflight">>;
  budgetFlag?: number;
  shutdownFlag?: ShutdownPolicy;
}

export interface LaunchBudget {
  plan: RunBudgetPlan;
  layers: BudgetLayer[];
  policy: Sourced<ShutdownPolicy>;
  preflight: Sourced<PreflightMode>;
}

export function launchBudget(i: LaunchBudgetInput): LaunchBudget {
  const layers = layersFor({
    ...(i.budgetFlag !== undefined ? { runBudget: { tokens: i.budgetFlag } } : {}),
    agent: {
      name: i.agent.name,
      file: i.agent.file,
      ...(i.agent.budget ? { budget: i.agent.budget } : {}),
      ...(i.agent.source ? { source: i.agent.source } : {}),
      ...(i.agent.shadows ? { shadows: i.agent.shadows } : {}),
    },
    composed: i.composed,
    settings: { file: i.settings.file, ...(i.settings.budget ? { budget: i.settings.budget } : {}) },
  });
  const bottles = i.bottles ?? [{ file: `bottles ${i.composed.requested.join(", ")}`, shutdown: i.composed.shutdown, preflight: i.composed.preflight }];
  const sources = {
    ...(i.shutdownFlag ? { flag: i.shutdownFlag } : {}),
    // A repository's file that shadows a host agent never sets its shutdown: the host agent's file did.
    agent: { file: i.agent.shadows?.file ?? i.agent.file, ...(i.agent.shutdown ? { shutdown: i.agent.shutdown } : {}) },
    bottles: bottles.map((b) => ({ file: b.file, ...(b.shutdown ? { shutdown: b.shutdown } : {}), ...(b.preflight ? { preflight: b.preflight } : {}) })),
    settings: settingsSource(i.settings),
  };
  const preflight = preflightMode(sources);
  const plan: RunBudgetPlan = {
    runId: i.runId,
    budgets: Object.fromEntries(effectiveBudgets(layers).map((b) => [b.provider, b])),
    also: Object.fromEntries(PROVIDERS.map((p) => [p, additionalBudgets(layers, p)]).filter(([, bs]) => bs!.length > 0)),
    timeZone: i.settings.timezone,
    preflight: preflight.value,
  };
  return { plan, layers, policy: shutdownPolicy(sources), preflight };
}
