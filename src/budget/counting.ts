/**
 * Which usage a budget counts (DESIGN §6). A budget's scope decides which runs' usage adds up against it:
 *   run    — the run itself;
 *   agent  — every run of that agent;
 *   bottle — every run that composed that bottle (named it directly, with --bottle or as the agent default);
 *   parent — every run whose composition chain includes that bottle (directly or through `extends`);
 *   global — every run on the ledger.
 * Only usage inside the budget's current window and after the last `bottle budget reset` marker for that
 * scope counts. This module turns a governing budget into a pure description of that selection; the ledger
 * turns the description into a query, and `runMatches` states the same rule for tests and in-memory use.
 */
import type { ProviderName } from "../manifest/types.ts";
import type { BudgetScope, EffectiveBudget } from "./precedence.ts";
import { windowAt, type WindowBounds } from "./windows.ts";

/** What the ledger knows about a run, as far as scope matching needs it. */
export interface RunFacts {
  id: string;
  agent: string;
  /** Bottles requested for the run, in order. */
  bottles: readonly string[];
  /** Every bottle involved, parents included. */
  chain: readonly string[];
}

/** A scope made concrete for one run: `key` is the run id, agent name or bottle name ("" for global). */
export interface ScopeKey {
  scope: BudgetScope;
  key: string;
}

/** The usage selection a budget counts. */
export interface UsageSelection extends ScopeKey {
  provider: ProviderName;
  /** Count usage at or after this instant (ms): the later of the window start and the last reset. */
  since: number;
  /** The window's first instant (0 without a window); `since` is this or a later reset. */
  windowStart?: number;
  /** The window's end (exclusive): usage at or after it belongs to the next window. */
  windowEnd?: number;
}

export function scopeKeyFor(b: Pick<EffectiveBudget, "scope" | "name">, runId: string): ScopeKey {
  switch (b.scope) {
    case "run":
      return { scope: "run", key: runId };
    case "global":
      return { scope: "global", key: "" };
    default:
      return { scope: b.scope, key: b.name ?? "" };
  }
}

/**
 * The selection for budget `b` seen by run `runId` at `now`, given the time of the last reset (if any).
 * `w` is the window containing `now` when the caller already has it (admission keeps it per window).
 */
export function selectionFor(
  b: EffectiveBudget,
  runId: string,
  now: number,
  timeZone: string,
  lastResetAt?: number,
  w: WindowBounds = windowAt(now, b.per, timeZone),
): UsageSelection {
  const since = Math.max(w.start, lastResetAt ?? 0);
  const sel: UsageSelection = { ...scopeKeyFor(b, runId), provider: b.provider, since, windowStart: w.start };
  if (w.end !== undefined) sel.windowEnd = w.end;
  return sel;
}

/** Whether a run's usage counts against a scope. */
export function runMatches(scope: ScopeKey, run: RunFacts): boolean {
  switch (scope.scope) {
    case "run":
      return run.id === scope.key;
    case "agent":
      return run.agent === scope.key;
    case "bottle":
      return run.bottles.includes(scope.key);
    case "parent":
      return run.chain.includes(scope.key);
    case "global":
      return true;
  }
}
