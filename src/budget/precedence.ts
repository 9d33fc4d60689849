/**
 * Which budget governs. Budgets are written in several places; for each provider the most specific one that
 * is defined wins, in this order: the run (`--budget N`), the agent, the bottle(s) composed, the nearest
 * `extends` ancestor that has one, and settings.yml. Only the winner is enforced (DESIGN §6): a run given
 * `--budget 50000` is held to 50 000 tokens even if the global budget has more room, and also even if it has
 * less. This module is pure: ordered layers in, the effective budget and *why* out.
 */
import type { BudgetLayer, BudgetLimit, BudgetSpec, BudgetWindow, ComposedBottle, ProviderName } from "../manifest/types.ts";
import { PROVIDERS } from "../manifest/types.ts";

export type BudgetScope = BudgetLayer["scope"];

/** Most specific first. */
export const SCOPE_ORDER: readonly BudgetScope[] = ["run", "agent", "bottle", "parent", "global"];

/** The budget that governs one provider, and where it was written. */
export interface EffectiveBudget {
  provider: ProviderName;
  tokens: number;
  per?: BudgetWindow;
  scope: BudgetScope;
  /** Agent or bottle name for agent/bottle/parent scopes. */
  name?: string;
  /** The file the value came from; absent for `--budget`. */
  file?: string;
}

/** Layers sorted by scope, keeping the given order within one scope (e.g. bottles in composition order). */
export function orderLayers(layers: readonly BudgetLayer[]): BudgetLayer[] {
  return layers
    .map((layer, i) => ({ layer, i }))
    .sort((a, b) => SCOPE_ORDER.indexOf(a.layer.scope) - SCOPE_ORDER.indexOf(b.layer.scope) || a.i - b.i)
    .map((x) => x.layer);
}

function fromLayer(provider: ProviderName, layer: BudgetLayer, limit: BudgetLimit): EffectiveBudget {
  const out: EffectiveBudget = { provider, tokens: limit.tokens, scope: layer.scope };
  if (limit.per) out.per = limit.per;
  if (layer.name !== undefined) out.name = layer.name;
  if (layer.file !== undefined) out.file = layer.file;
  return out;
}

/** The governing budget for `provider`, or undefined when no layer limits it. */
export function effectiveBudget(layers: readonly BudgetLayer[], provider: ProviderName): EffectiveBudget | undefined {
  for (const layer of orderLayers(layers)) {
    const limit = layer.budget[provider];
    if (limit) return fromLayer(provider, layer, limit);
  }
  return undefined;
}

/** The governing budget of every provider that has one. */
export function effectiveBudgets(layers: readonly BudgetLayer[]): EffectiveBudget[] {
  return PROVIDERS.map((p) => effectiveBudget(layers, p)).filter((b): b is EffectiveBudget => b !== undefined);
}

/** Every defined budget for `provider`, most specific first, each marked whether it governs (for `show`). */
export function budgetsByScope(layers: readonly BudgetLayer[], provider: ProviderName): Array<EffectiveBudget & { governs: boolean }> {
  const all = orderLayers(layers).flatMap((layer) => {
    const limit = layer.budget[provider];
    return limit ? [fromLayer(provider, layer, limit)] : [];
  });
  return all.map((b, i) => ({ ...b, governs: i === 0 }));
}

export interface LayerSources {
  /**
   * `--budget N`: a token count for this run. It limits every provider the run's traffic is attributed to
   * (a pi agent calling Anthropic's API is metered as claude), each separately.
   */
  runBudget?: { tokens: number };
  agent?: { name: string; file: string; budget?: BudgetSpec };
  composed?: Pick<ComposedBottle, "budgetLayers">;
  settings?: { file: string; budget?: BudgetSpec };
}

/** Assembles the ordered layers for one run from its manifests and settings. */
export function layersFor(src: LayerSources): BudgetLayer[] {
  const layers: BudgetLayer[] = [];
  if (src.runBudget) {
    const tokens = src.runBudget.tokens;
    layers.push({ scope: "run", budget: Object.fromEntries(PROVIDERS.map((p) => [p, { tokens }])) as BudgetSpec });
  }
  if (src.agent?.budget) layers.push({ scope: "agent", name: src.agent.name, file: src.agent.file, budget: src.agent.budget });
  if (src.composed) layers.push(...src.composed.budgetLayers);
  if (src.settings?.budget) layers.push({ scope: "global", file: src.settings.file, budget: src.settings.budget });
  return orderLayers(layers);
}

/** "agent reviewer (~/.bottle/agents/reviewer.md)" — the scope phrase used in refusals and listings. */
export function describeScope(b: Pick<EffectiveBudget, "scope" | "name" | "file">): string {
  const who = b.scope === "run" ? "run budget (--budget)" : b.scope === "global" ? "global budget" : `${b.scope} ${b.name ?? "?"} budget`;
  return b.file ? `${who} from ${b.file}` : who;
}
