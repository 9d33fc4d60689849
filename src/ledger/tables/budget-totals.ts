/**
 * `budget_totals`: running totals, so admission reads one row instead of summing a window of usage events
 * (a monthly budget on a year-old ledger summed hundreds of thousands of rows per request). One row per
 * (scope, scope key, provider, window); `tokens` is the sum of `total_tokens` of the usage events of runs
 * in that scope, from `since` (the window's start, or the last reset after it) up to `window_end`. A charge
 * adds to every matching row in the same transaction that inserts the event; a missing row, or one whose
 * `since` no longer matches (a reset), is rebuilt from `usage_events`. `bottle ledger check` proves every
 * row equals that sum.
 */
export interface BudgetTotalsTable {
  /** run | agent | bottle | parent | global. */
  scope: string;
  /** The run id, agent or bottle name; "" for global. */
  scope_key: string;
  provider: string;
  /** First instant of the window (ms); 0 for a budget without one. */
  window_start: number;
  /** First instant of the next window (ms); NO_WINDOW_END for a budget without one. */
  window_end: number;
  /** Usage counts from here: the later of window_start and the scope's last reset. */
  since: number;
  tokens: number;
}
