/**
 * The data behind `bottle budget show`: every budget written anywhere (settings.yml, each agent, each
 * bottle) with its usage counted the way enforcement counts it, or, for a given agent and bottles, every
 * layer that applies to such a run per provider, marking the one that governs. Reads one consistent
 * snapshot inside a ledger transaction.
 */
import { budgetsByScope, type EffectiveBudget } from "../budget/precedence.ts";
import { budgetRow, type BudgetRow } from "../budget/report.ts";
import type { AgentManifest, BottleManifest, BudgetLayer, BudgetSpec, ProviderName, Settings } from "../manifest/types.ts";
import { PROVIDERS } from "../manifest/types.ts";
import { standing } from "./admission.ts";
import type { EnforceStore } from "./store.ts";

function budgetsOf(spec: BudgetSpec | undefined, base: Omit<EffectiveBudget, "provider" | "tokens" | "per">): EffectiveBudget[] {
  if (!spec) return [];
  return PROVIDERS.flatMap((p) => {
    const l = spec[p];
    return l ? [{ ...base, provider: p, tokens: l.tokens, ...(l.per ? { per: l.per } : {}) }] : [];
  });
}

/** Every budget defined in settings and manifests (most specific scopes first). */
export function definedBudgets(settings: Settings, agents: Iterable<AgentManifest>, bottles: Iterable<BottleManifest>): EffectiveBudget[] {
  return [
    ...[...agents].flatMap((a) => budgetsOf(a.budget, { scope: "agent", name: a.name, file: a.file })),
    ...[...bottles].flatMap((b) => budgetsOf(b.budget, { scope: "bottle", name: b.name, file: b.file })),
    ...budgetsOf(settings.budget, { scope: "global", file: settings.file }),
  ];
}

async function rowsFor(store: EnforceStore, items: Array<{ budget: EffectiveBudget; governs?: boolean }>, runId: string, timeZone: string, now: number): Promise<BudgetRow[]> {
  return store.transaction(async (tx) => {
    const rows: BudgetRow[] = [];
    for (const { budget, governs } of items) rows.push(budgetRow(budget, await standing(tx, budget, runId, now, timeZone), timeZone, governs));
    return rows;
  });
}

export function showDefined(store: EnforceStore, settings: Settings, agents: Iterable<AgentManifest>, bottles: Iterable<BottleManifest>, now = Date.now()): Promise<BudgetRow[]> {
  return rowsFor(store, definedBudgets(settings, agents, bottles).map((budget) => ({ budget })), "", settings.timezone, now);
}

/** Every layer for a run of these layers, per provider, with the governing one marked. */
export function showLayers(store: EnforceStore, layers: readonly BudgetLayer[], timeZone: string, runId = "", now = Date.now()): Promise<BudgetRow[]> {
  const items = PROVIDERS.flatMap((p: ProviderName) => budgetsByScope(layers, p).map(({ governs, ...budget }) => ({ budget, governs })));
  return rowsFor(store, items, runId, timeZone, now);
}
