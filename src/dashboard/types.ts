/**
 * The dashboard's view model: everything `bottle dashboard` shows, as plain data. The terminal view renders
 * it, `--json` prints it, and tests assert it; none of them reads the ledger themselves. Times are ISO 8601
 * in the configured time zone (as in `bottle budget show`), durations whole seconds.
 */
import type { BudgetRow } from "../budget/report.ts";

/**
 * running: taking requests. cut off: refusing every request (a budget or a user cut it off, or a kill or
 * stop is under way). frozen: stopped with its state saved, or being frozen. ended: over, or its owning
 * process is gone.
 */
export type RunStatus = "running" | "cut off" | "frozen" | "ended";

/** A budget and how full it is: `fraction` is (used + held) / limit, above 1 once overrun. */
export type Gauge = BudgetRow & { fraction: number };

export interface DashboardRun {
  runId: string;
  label: string;
  /** One of the 16 ANSI color names the run was launched with, or null. */
  color: string | null;
  agent: string;
  provider: string | null;
  /** The bottles the run composed, in order. */
  bottles: string[];
  backend: string | null;
  host: string | null;
  pid: number | null;
  status: RunStatus;
  /** Why the run is cut off, frozen or ended ("cutoff by user", "exit 0", …). */
  reason?: string;
  startedAt: string;
  ageSeconds: number;
  endedAt?: string;
  /** Tokens charged to this run, every provider. */
  tokens: number;
  /** Tokens per provider the run used. */
  tokensByProvider: Record<string, number>;
  requests: number;
  lastRequestAt?: string;
  lastRequestSecondsAgo?: number;
  /** Requests recorded in the last minute. */
  requestsPerMinute: number;
  /**
   * The budgets that govern this run, one per provider it uses (its own, and any it has spent tokens with),
   * the nearest to its limit first.
   */
  budgets: Gauge[];
  /** An ended run's signed provenance record (`bottle report <run>` shows it), when it has one. */
  record?: string;
}

export interface ProviderTotal {
  provider: string;
  /** Tokens every run on the ledger has charged to this provider today (since midnight in the zone). */
  tokens: number;
  /** The global budget (settings.yml) for this provider, counted over its window since its last reset. */
  budget?: Gauge;
}

export interface RecentAction {
  at: string;
  runId: string;
  label: string;
  kind: string;
  /** budget, user, startup (crash recovery), or `…-fallback` when a freeze or kill failed. */
  trigger: string;
  /** For a budget's action: the budget ("agent reviewer budget from …"), its provider, used and limit. */
  scope?: string;
  provider?: string;
  used?: number;
  limit?: number;
  detail?: string;
}

export interface DashboardModel {
  at: string;
  timeZone: string;
  runs: DashboardRun[];
  /** The hosts the listed runs live on (more than one only on a fleet ledger), sorted. */
  hosts: string[];
  providers: ProviderTotal[];
  actions: RecentAction[];
}
