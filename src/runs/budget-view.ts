/**
 * What `bottle budget show` prints, gathered from settings.yml, the manifests and the ledger:
 *   - without filters, every budget written anywhere (global, each agent, each bottle, and each bottle that
 *     others extend, as a parent), each counted over its own scope;
 *   - with `--agent` and/or `--bottle`, every layer a run of that agent in those bottles would see, the one
 *     that governs marked, plus its shutdown policy and pre-flight mode and where each was set;
 *   - and in both, each live run with the budget that governs it per provider. A live run's layers are
 *     rebuilt from the files as they are now, plus its `--budget` when the launch recorded one.
 */
import { hostName } from "../host-name.ts";
import { preflightMode, settingsSource, shutdownPolicy, type PolicySources, type Sourced } from "../budget/policy.ts";
import { layersFor, type LayerSources } from "../budget/precedence.ts";
import { displayPath, renderRows, type BudgetRow } from "../budget/report.ts";
import { isoInZone, wallText } from "../budget/zoned-time.ts";
import { pidAlive } from "../enforce/run-control.ts";
import { showDefined, showLayers, showRuns, type RunBudgets } from "../enforce/show.ts";
import type { EnforceStore } from "../enforce/store.ts";
import { NotFoundError } from "../errors.ts";
import { listRuns, type LedgerDb, type RunInfo } from "../ledger/index.ts";
import { agentOrBroken, composeBottles, type Catalog } from "../manifest/index.ts";
import type { BudgetLayer, PreflightMode, ProviderName, Settings, ShutdownPolicy } from "../manifest/types.ts";
import { didYouMean } from "../util/did-you-mean.ts";

export interface BudgetView {
  timeZone: string;
  /** When the counts were taken, in the configured zone. */
  at: string;
  /** Set when the view was narrowed with --agent / --bottle. */
  agent?: string;
  bottles?: string[];
  shutdown?: Sourced<ShutdownPolicy>;
  preflight?: Sourced<PreflightMode>;
  budgets: BudgetRow[];
  runs: Array<RunBudgets & { label: string }>;
}

export interface ViewInput {
  db: LedgerDb;
  store: EnforceStore;
  settings: Settings;
  catalog: Catalog;
  agent?: string;
  bottles?: string[];
  /** The `--budget` a live run was launched with, when the launch recorded it (runs/<id>/launch.json). */
  runBudgetOf?: (runId: string) => number | undefined;
  now?: number;
}

function lookup<T>(map: Map<string, T>, name: string, kind: string): T {
  const v = map.get(name);
  if (v) return v;
  const guess = didYouMean(name, [...map.keys()]);
  throw new NotFoundError(`no ${kind} named "${name}"`, { key: `--${kind}`, fix: guess ? `did you mean ${guess}?` : `list them with \`bottle ${kind}s\`.` });
}

/** The budget layers and policy sources of a run of `agent` (if any) in `bottles` (if any). */
function sourcesFor(catalog: Catalog, settings: Settings, agentName: string | undefined, bottles: string[], strict: boolean) {
  const agent = agentName === undefined ? undefined : strict ? (agentOrBroken(catalog, agentName) ?? lookup(catalog.agents, agentName, "agent")) : catalog.agents.get(agentName);
  const names = bottles.length > 0 ? bottles : agent?.bottle ? [agent.bottle] : [];
  if (strict) names.forEach((n) => lookup(catalog.bottles, n, "bottle"));
  const known = names.filter((n) => catalog.bottles.has(n));
  const composed = known.length > 0 ? composeBottles(catalog, known) : undefined;
  const layers: LayerSources = { settings: { file: settings.file, ...(settings.budget ? { budget: settings.budget } : {}) } };
  if (agent) {
    layers.agent = { name: agent.name, file: agent.file, source: agent.source, ...(agent.budget ? { budget: agent.budget } : {}), ...(agent.shadows ? { shadows: agent.shadows } : {}) };
  }
  if (composed) layers.composed = composed;
  const chain = composed ? composed.requested.flatMap((r) => [r, ...(composed.ancestors[r] ?? [])]) : [];
  const policy: PolicySources = {
    bottles: [...new Set(chain)].map((n) => catalog.bottles.get(n)!).map((b) => ({ file: b.file, ...(b.shutdown ? { shutdown: b.shutdown } : {}), ...(b.preflight ? { preflight: b.preflight } : {}) })),
    settings: settingsSource(settings),
  };
  // A repository's file that shadows a host agent never sets its shutdown: the host agent's file did.
  if (agent) policy.agent = { file: agent.shadows?.file ?? agent.file, ...(agent.shutdown ? { shutdown: agent.shutdown } : {}) };
  return { layers, policy, names, ...(agent ? { provider: agent.provider } : {}) };
}

/**
 * The budget layers that govern a run, rebuilt from the manifests as they are now, plus its `--budget` when
 * the launch recorded one. An agent or bottle deleted since the launch simply adds no layer.
 */
export function runLayers(catalog: Catalog, settings: Settings, run: Pick<RunInfo, "agent" | "bottles">, runBudget?: number): BudgetLayer[] {
  const s = sourcesFor(catalog, settings, run.agent || undefined, run.bottles, false);
  return layersFor({ ...s.layers, ...(runBudget !== undefined ? { runBudget: { tokens: runBudget } } : {}) });
}

/** Runs whose owner is alive (or on another host sharing the ledger, where this host cannot tell). */
export async function liveRuns(db: LedgerDb, isAlive = pidAlive): Promise<RunInfo[]> {
  const here = hostName();
  return (await listRuns(db, { state: "running" })).filter((r) => r.pid === null || (r.host !== null && r.host !== here) || isAlive(r.pid));
}

export async function budgetView(i: ViewInput): Promise<BudgetView> {
  const now = i.now ?? Date.now();
  const tz = i.settings.timezone;
  const view: BudgetView = { timeZone: tz, at: isoInZone(now, tz), budgets: [], runs: [] };
  const narrowed = i.agent !== undefined || (i.bottles?.length ?? 0) > 0;
  if (narrowed) {
    const s = sourcesFor(i.catalog, i.settings, i.agent, i.bottles ?? [], true);
    if (i.agent !== undefined) view.agent = i.agent;
    view.bottles = s.names;
    view.shutdown = shutdownPolicy(s.policy);
    view.preflight = preflightMode(s.policy);
    // A run of this agent spends only under its provider: other providers' budgets are shown, never governing.
    view.budgets = await showLayers(i.store, layersFor(s.layers), tz, "", now, s.provider);
  } else {
    view.budgets = await showDefined(i.store, i.settings, i.catalog.agents.values(), i.catalog.bottles.values(), now);
  }
  let runs = await liveRuns(i.db);
  if (i.agent !== undefined) runs = runs.filter((r) => r.agent === i.agent);
  if (i.bottles?.length) runs = runs.filter((r) => i.bottles!.every((b) => r.chain.includes(b)));
  const withLayers = runs.map((r) => ({ runId: r.id, agent: r.agent, bottles: r.bottles, ...(r.provider ? { provider: r.provider as ProviderName } : {}), layers: runLayers(i.catalog, i.settings, r, i.runBudgetOf?.(r.id)) }));
  const shown = await showRuns(i.store, withLayers, tz, now);
  view.runs = shown.map((r, k) => ({ ...r, label: runs[k]!.label }));
  return view;
}

const sourceText = (s: Sourced<string>) => (s.from === "flag" ? "--shutdown" : s.from === "default" ? "default" : `${s.from}, ${displayPath(s.file ?? "")}`);

/** The view as text for people: a table per section, newest facts only. */
export function renderView(v: BudgetView): string {
  const out: string[] = [];
  const when = `at ${wallText(Date.parse(v.at), v.timeZone)} (times in ${v.timeZone})`;
  if (v.bottles !== undefined) {
    const who = v.agent ? `agent ${v.agent}` : "any agent";
    out.push(`Budgets for a run of ${who}${v.bottles.length ? ` in ${v.bottles.join(", ")}` : ""} ${when}; * governs:`);
  } else out.push(`Budgets ${when}:`);
  out.push(v.budgets.length ? renderRows(v.budgets) : "No budgets are set. Add one with `bottle budget set global claude 5000000`.\n");
  if (v.shutdown && v.preflight) out.push(`shutdown: ${v.shutdown.value} (${sourceText(v.shutdown)})\npreflight: ${v.preflight.value} (${sourceText(v.preflight)})\n`);
  for (const r of v.runs) {
    out.push(`Live run ${r.runId} (${r.label}: agent ${r.agent || "none"}${r.bottles.length ? ` in ${r.bottles.join(", ")}` : ""}):`);
    out.push(r.budgets.length ? renderRows(r.budgets) : "no budget limits this run\n");
  }
  return out.join("\n");
}
