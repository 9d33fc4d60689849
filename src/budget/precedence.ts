/**
 * Which budget governs. Budgets are written in several places; for each provider the most specific one that
 * is defined wins, in this order: the run (`--budget N`), the agent, the bottle(s) composed, the nearest
 * `extends` ancestor that has one, and settings.yml. Only the winner is enforced (DESIGN §6): a run given
 * `--budget 50000` is held to 50 000 tokens even if the global budget has more room, and also even if it has
 * less. Only host files take part: a repository's agent budget (./.bottle/agents) never governs, it is
 * enforced in addition (`also`), so a repository can make a run stricter and never looser. This module is
 * pure: ordered layers in, the effective budget and *why* out.
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
  /** A repository's budget, enforced in addition to the governing one (BudgetLayer.also). */
  also?: true;
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
  if (layer.also) out.also = true;
  return out;
}

/** The governing budget for `provider`, or undefined when no host layer limits it. */
export function effectiveBudget(layers: readonly BudgetLayer[], provider: ProviderName): EffectiveBudget | undefined {
  for (const layer of orderLayers(layers)) {
    if (layer.also) continue;
    const limit = layer.budget[provider];
    if (limit) return fromLayer(provider, layer, limit);
  }
  return undefined;
}

/** The governing budget of every provider that has one. */
export function effectiveBudgets(layers: readonly BudgetLayer[]): EffectiveBudget[] {
  return PROVIDERS.map((p) => effectiveBudget(layers, p)).filter((b): b is EffectiveBudget => b !== undefined);
}

/** The repository's budgets for `provider`: each is enforced in addition to the one that governs. */
export function additionalBudgets(layers: readonly BudgetLayer[], provider: ProviderName): EffectiveBudget[] {
  return layers.flatMap((layer) => {
    const limit = layer.also ? layer.budget[provider] : undefined;
    return limit ? [fromLayer(provider, layer, limit)] : [];
  });
}

/**
 * Every defined budget for `provider`, most specific first, each marked whether it is enforced (for `show`):
 * the most specific host budget, and every repository budget (those apply in addition).
 */
export function budgetsByScope(layers: readonly BudgetLayer[], provider: ProviderName): Array<EffectiveBudget & { governs: boolean }> {
  const all = orderLayers(layers).flatMap((layer) => {
    const limit = layer.budget[provider];
    return limit ? [fromLayer(provider, layer, limit)] : [];
  });
  const first = all.findIndex((b) => !b.also);
  return all.map((b, i) => ({ ...b, governs: b.also === true || i === first }));
}

export interface LayerSources {
  /**
   * `--budget N`: a token count for this run. A run's traffic is all counted under its own provider (a pi
   * agent calling Anthropic's API spends `pi` tokens), so this is that provider's limit.
   */
  runBudget?: { tokens: number };
  /** `source: "cwd"` marks a repository's agent; `shadows` is the host agent of that name it replaced. */
  agent?: { name: string; file: string; budget?: BudgetSpec; source?: string; shadows?: { file: string; budget?: BudgetSpec } };
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
  const a = src.agent;
  if (a?.source === "cwd") {
    // Host policy stays on the host: the host agent's budget keeps its place, the repository's is extra.
    if (a.shadows?.budget) layers.push({ scope: "agent", name: a.name, file: a.shadows.file, budget: a.shadows.budget });
    if (a.budget) layers.push({ scope: "agent", name: a.name, file: a.file, budget: a.budget, also: true });
  } else if (a?.budget) layers.push({ scope: "agent", name: a.name, file: a.file, budget: a.budget });
  if (src.composed) layers.push(...src.composed.budgetLayers);
  if (src.settings?.budget) layers.push({ scope: "global", file: src.settings.file, budget: src.settings.budget });
  return orderLayers(layers);
}

/** "agent reviewer (~/.bottle/agents/reviewer.md)" — the scope phrase used in refusals and listings. */
export function describeScope(b: Pick<EffectiveBudget, "scope" | "name" | "file" | "also">): string {
  const who = b.scope === "run" ? "run budget (--budget)" : b.scope === "global" ? "global budget" : `${b.scope} ${b.name ?? "?"} budget`;
  const from = b.file ? `${who} from ${b.file}` : who;
  return b.also ? `${from} (the repository's, in addition to the host's)` : from;
}
