/**
 * Building the dashboard's view model from the ledger. Every figure is read in one snapshot (a deferred
 * read transaction: no write lock, so watching never delays a proxy charging usage), and budgets are counted
 * by the same code enforcement uses (src/enforce/show.ts), so the bar on screen is the number admission
 * will act on. Which runs show: every run that is not over, then the runs that ended in the last hour.
 */
import { hostName } from "../host-name.ts";
import type { BudgetRow } from "../budget/report.ts";
import { windowAt } from "../budget/windows.ts";
import { isoInZone } from "../budget/zoned-time.ts";
import { pidAlive } from "../enforce/run-control.ts";
import { showLayers, showRuns } from "../enforce/show.ts";
import { sqlStoreOn } from "../enforce/sql-store.ts";
import type { EnforceStore } from "../enforce/store.ts";
import { listRuns, recentActions, runActivity, snapshot, type LedgerDb, type RunActivity, type RunInfo } from "../ledger/index.ts";
import { PROVIDERS, type BudgetLayer, type BudgetSpec } from "../manifest/types.ts";
import { runStatus } from "./status.ts";
import type { DashboardModel, DashboardRun, Gauge, ProviderTotal, RecentAction } from "./types.ts";

export interface DashboardInput {
  timeZone: string;
  /** settings.yml, for the global budgets the host totals are held against. */
  settings?: { file: string; budget?: BudgetSpec };
  /** The budget layers that govern a run (rebuilt from its manifests); none: the run shows no budget. */
  layersOf?: (run: RunInfo) => readonly BudgetLayer[] | undefined;
  now?: number;
  /** Where an ended run's provenance record is, if it has one. */
  recordOf?: (runId: string) => string | undefined;
  isAlive?: (pid: number) => boolean;
  /** This host's name: a run owned by a process on another host sharing the ledger is taken as alive. */
  hostName?: string;
  /** How long an ended run stays listed (default one hour), and how many of them at most (default 10). */
  keepEndedMs?: number;
  endedLimit?: number;
  /** Recent enforcement actions to list (default 8). */
  actionsLimit?: number;
}

const RATE_WINDOW_MS = 60_000;
/** An ended run stays listed this long (README: "for an hour") … */
export const KEEP_ENDED_MS = 3_600_000;
/** … and only the runs that ended last, this many (README: "the 10 latest"), so a CI batch cannot flood the frame. */
export const ENDED_LIMIT = 10;

export function gauge(row: BudgetRow): Gauge {
  const fraction = row.limit > 0 ? (row.used + row.held) / row.limit : 1;
  return { ...row, fraction: Math.round(fraction * 10_000) / 10_000 };
}

/** Most at risk first; on a tie, the run's own provider. */
function byRisk(provider: string | null) {
  return (a: Gauge, b: Gauge) => b.fraction - a.fraction || Number(b.provider === provider) - Number(a.provider === provider) || a.provider.localeCompare(b.provider);
}

/**
 * The budgets that govern each run for the providers it uses: its own (a run's usage is counted under its
 * provider), and any it has spent tokens with (a `bottle proxy` session without `--provider`). A global
 * claude budget says nothing about a codex run. Counted for all runs at once, so runs that share a budget share its count.
 */
async function governing(store: EnforceStore, runs: readonly RunInfo[], activity: Map<string, RunActivity>, layersOf: DashboardInput["layersOf"], tz: string, now: number): Promise<Map<string, Gauge[]>> {
  const withLayers = runs.flatMap((r) => {
    const layers = layersOf?.(r);
    return layers?.length ? [{ runId: r.id, agent: r.agent, bottles: r.bottles, layers }] : [];
  });
  const out = new Map<string, Gauge[]>(runs.map((r) => [r.id, []]));
  for (const shown of await showRuns(store, withLayers, tz, now)) {
    const run = runs.find((r) => r.id === shown.runId)!;
    const used = activity.get(run.id)!;
    const relevant = shown.budgets.filter((b) => b.provider === run.provider || used.byProvider[b.provider] !== undefined);
    out.set(run.id, relevant.map(gauge).sort(byRisk(run.provider)));
  }
  return out;
}

async function providerTotals(store: EnforceStore, settings: DashboardInput["settings"], tz: string, now: number): Promise<ProviderTotal[]> {
  const global = settings?.budget ? await showLayers(store, [{ scope: "global", file: settings.file, budget: settings.budget }], tz, "", now) : [];
  const out: ProviderTotal[] = [];
  for (const provider of PROVIDERS) {
    // Today's tokens, not all time: a count bounded by the day stays cheap however long the ledger's history.
    const tokens = await store.transaction((tx) => tx.usedTokens({ scope: "global", key: "", provider, since: windowAt(now, "day", tz).start }));
    const found = global.find((g) => g.provider === provider);
    if (found) {
      const { governs: _, ...row } = found; // a lone global layer always governs: not worth saying
      out.push({ provider, tokens, budget: gauge(row) });
    } else if (tokens > 0) out.push({ provider, tokens });
  }
  return out;
}

function runRow(run: RunInfo, act: RunActivity, status: ReturnType<typeof runStatus>, budgets: Gauge[], tz: string, now: number): DashboardRun {
  const row: DashboardRun = {
    runId: run.id,
    label: run.label,
    color: run.color,
    agent: run.agent,
    provider: run.provider,
    bottles: run.bottles,
    backend: run.backend,
    host: run.host,
    pid: run.pid,
    status: status.status,
    startedAt: isoInZone(run.startedAt, tz),
    ageSeconds: Math.max(0, Math.floor((now - run.startedAt) / 1000)),
    tokens: act.tokens,
    tokensByProvider: act.byProvider,
    requests: act.requests,
    requestsPerMinute: act.recentRequests,
    budgets,
  };
  if (status.reason !== undefined) row.reason = status.reason;
  if (run.endedAt !== null) row.endedAt = isoInZone(run.endedAt, tz);
  if (act.lastAt !== undefined) {
    row.lastRequestAt = isoInZone(act.lastAt, tz);
    row.lastRequestSecondsAgo = Math.max(0, Math.floor((now - act.lastAt) / 1000));
  }
  return row;
}

/** Live runs in the order they started (rows keep their place), then ended runs, the latest first. */
function order(rows: Array<{ run: RunInfo; row: DashboardRun }>, now: number): DashboardRun[] {
  const live = rows.filter((r) => r.row.status !== "ended").sort((a, b) => a.run.startedAt - b.run.startedAt || a.run.id.localeCompare(b.run.id));
  const over = rows.filter((r) => r.row.status === "ended").sort((a, b) => (b.run.endedAt ?? now) - (a.run.endedAt ?? now) || a.run.id.localeCompare(b.run.id));
  return [...live, ...over].map((r) => r.row);
}

export async function readDashboard(db: LedgerDb, i: DashboardInput): Promise<DashboardModel> {
  const now = i.now ?? Date.now();
  const tz = i.timeZone;
  const here = i.hostName ?? hostName();
  const alive = i.isAlive ?? pidAlive;
  return snapshot(db, async (conn) => {
    const store = sqlStoreOn(conn);
    const runs = [
      ...(await listRuns(conn, { state: ["running", "frozen"] })),
      ...(await listRuns(conn, { state: "ended", endedSince: now - (i.keepEndedMs ?? KEEP_ENDED_MS), limit: i.endedLimit ?? ENDED_LIMIT, newest: "ended" })),
    ];
    const activity = await runActivity(conn, runs.map((r) => r.id), now - RATE_WINDOW_MS);
    const budgets = await governing(store, runs, activity, i.layersOf, tz, now);
    const rows: Array<{ run: RunInfo; row: DashboardRun }> = [];
    for (const run of runs) {
      const last = await store.transaction((tx) => tx.lastControlAction(run.id));
      const ownerGone = run.state === "running" && run.pid !== null && (run.host === null || run.host === here) && !alive(run.pid);
      const row = runRow(run, activity.get(run.id)!, runStatus(run, last, ownerGone), budgets.get(run.id)!, tz, now);
      const record = row.status === "ended" ? i.recordOf?.(run.id) : undefined;
      rows.push({ run, row: record ? { ...row, record } : row });
    }
    const actions: RecentAction[] = (await recentActions(conn, i.actionsLimit ?? 8)).map((a) => ({
      at: isoInZone(a.at, tz),
      runId: a.runId,
      label: a.label,
      kind: a.kind,
      trigger: a.trigger,
      ...(a.scope !== null ? { scope: a.scope } : {}),
      ...(a.provider !== null ? { provider: a.provider } : {}),
      ...(a.used !== null ? { used: a.used } : {}),
      ...(a.limit !== null ? { limit: a.limit } : {}),
      ...(a.detail !== null ? { detail: a.detail } : {}),
    }));
    const hosts = [...new Set(runs.flatMap((r) => (r.host ? [r.host] : [])))].sort();
    return { at: isoInZone(now, tz), timeZone: tz, runs: order(rows, now), hosts, providers: await providerTotals(store, i.settings, tz, now), actions };
  });
}
