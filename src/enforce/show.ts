/**
 * The data behind `bottle budget show`. Three views, each counted the way enforcement counts:
 *   - every budget written anywhere: settings.yml, each agent, each bottle, and each bottle that another
 *     bottle `extends` a second time as a parent (a parent budget counts every run whose chain includes it,
 *     which is more runs than named the bottle directly);
 *   - for a given agent and bottles, every layer that would apply to such a run, per provider, with the one
 *     that governs marked;
 *   - for each live run, the budget that governs it per provider (a `--budget` run budget only shows here).
 * Each view reads one consistent snapshot inside a ledger transaction.
 */
import { scopeKeyFor } from "../budget/counting.ts";
import { additionalBudgets, budgetsByScope, effectiveBudgets, type EffectiveBudget } from "../budget/precedence.ts";
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

type BottleInfo = Pick<BottleManifest, "name" | "file" | "budget" | "extends">;
type AgentInfo = Pick<AgentManifest, "name" | "file" | "budget"> & Partial<Pick<AgentManifest, "source" | "shadows">>;

/** Every budget defined in settings and manifests (most specific scopes first). */
export function definedBudgets(
  settings: Pick<Settings, "file" | "budget">,
  agents: Iterable<AgentInfo>,
  bottles: Iterable<BottleInfo>,
): EffectiveBudget[] {
  const all = [...bottles];
  const parents = new Set(all.flatMap((b) => b.extends));
  // A repository's agent: the host agent's budget it replaced keeps its place; its own applies in addition.
  const agentBudgets = (a: AgentInfo): EffectiveBudget[] =>
    a.source === "cwd"
      ? [...(a.shadows ? budgetsOf(a.shadows.budget, { scope: "agent", name: a.name, file: a.shadows.file }) : []), ...budgetsOf(a.budget, { scope: "agent", name: a.name, file: a.file, also: true })]
      : budgetsOf(a.budget, { scope: "agent", name: a.name, file: a.file });
  return [
    ...[...agents].flatMap(agentBudgets),
    ...all.flatMap((b) => budgetsOf(b.budget, { scope: "bottle", name: b.name, file: b.file })),
    ...all.filter((b) => parents.has(b.name)).flatMap((b) => budgetsOf(b.budget, { scope: "parent", name: b.name, file: b.file })),
    ...budgetsOf(settings.budget, { scope: "global", file: settings.file }),
  ];
}

type Item = { budget: EffectiveBudget; governs?: boolean };

async function rowsFor(store: EnforceStore, items: Item[], runId: string, timeZone: string, now: number): Promise<BudgetRow[]> {
  return store.transaction(async (tx) => {
    const rows: BudgetRow[] = [];
    for (const { budget, governs } of items) rows.push(budgetRow(budget, await standing(tx, budget, runId, now, timeZone), timeZone, now, governs));
    return rows;
  });
}

export function showDefined(store: EnforceStore, settings: Pick<Settings, "file" | "budget" | "timezone">, agents: Iterable<AgentInfo>, bottles: Iterable<BottleInfo>, now = Date.now()): Promise<BudgetRow[]> {
  return rowsFor(store, definedBudgets(settings, agents, bottles).map((budget) => ({ budget })), "", settings.timezone, now);
}

/**
 * Every layer for a run of these layers, per provider, with the enforced ones marked. With `runProvider`
 * (an agent's), only that provider's budgets can govern: a run's usage is all counted under it.
 */
export function showLayers(store: EnforceStore, layers: readonly BudgetLayer[], timeZone: string, runId = "", now = Date.now(), runProvider?: ProviderName): Promise<BudgetRow[]> {
  const items = PROVIDERS.flatMap((p: ProviderName) => budgetsByScope(layers, p).map(({ governs, ...budget }) => ({ budget, governs: governs && (runProvider === undefined || p === runProvider) })));
  return rowsFor(store, items, runId, timeZone, now);
}

/** A live run and the budget layers it was launched with. */
export interface LiveRunLayers {
  runId: string;
  /** The run's provider: its usage is all counted under it, so only its budgets govern the run. */
  provider?: ProviderName;
  agent: string;
  bottles: string[];
  layers: readonly BudgetLayer[];
}

export interface RunBudgets {
  runId: string;
  agent: string;
  bottles: string[];
  /** The governing budget per provider, counted for this run. */
  budgets: BudgetRow[];
}

/**
 * Every run's governing budgets, in one snapshot. Runs of one agent, or under one global budget, share the
 * budget and so its count: each distinct budget (a run budget is distinct per run) is counted once.
 */
export async function showRuns(store: EnforceStore, runs: readonly LiveRunLayers[], timeZone: string, now = Date.now()): Promise<RunBudgets[]> {
  return store.transaction(async (tx) => {
    const counted = new Map<string, BudgetRow>();
    const out: RunBudgets[] = [];
    for (const r of runs) {
      const budgets: BudgetRow[] = [];
      const enforced = [...effectiveBudgets(r.layers), ...PROVIDERS.flatMap((p) => additionalBudgets(r.layers, p))];
      for (const b of enforced.filter((x) => r.provider === undefined || x.provider === r.provider)) {
        const key = JSON.stringify([scopeKeyFor(b, r.runId), b.provider, b.tokens, b.per ?? null, b.file ?? null]);
        let row = counted.get(key);
        if (!row) counted.set(key, (row = budgetRow(b, await standing(tx, b, r.runId, now, timeZone), timeZone, now)));
        budgets.push({ ...row });
      }
      out.push({ runId: r.runId, agent: r.agent, bottles: r.bottles, budgets });
    }
    return out;
  });
}
