/**
 * Everything admission reads about its budgets, as ONE statement. A budget's standing needs the scope's
 * last reset, its running total for the window (and the `since` the row was built for) and the tokens held
 * by open reservations; read one query at a time that was four statements per budget, each built by the
 * query builder, twice per request (admission and the crossing check): a quarter of `bottle proxy`'s CPU
 * under load. Here the statement is plain SQL text with one scalar subquery per fact, built by string
 * concatenation (no query builder), and the SQLite handle keeps it prepared by its text. A single SELECT is
 * one consistent snapshot on its own, in SQLite and in Postgres, so it needs no BEGIN/COMMIT around it.
 *
 * The same rules as src/ledger/totals.ts (row key, NO_WINDOW_END) and src/enforce/sql-store.ts
 * (reservations joined to runs, a reset of a bottle covering "bottle" and "parent"); the totals tests and
 * the enforcement suites hold the two equal.
 */
import type { ScopeKey } from "../budget/counting.ts";
import { NO_WINDOW_END } from "./totals.ts";

/** One budget's read: its scope made concrete, its provider and the window the request falls in. */
export interface StandingRead extends ScopeKey {
  provider: string;
  windowStart: number;
  /** Exclusive; absent for a budget without a window. */
  windowEnd?: number;
}

/** What the ledger holds for one read: facts only (admission turns them into a standing). */
export interface StandingFacts {
  /** Time of the scope's last reset marker (for this provider or all), if any. */
  resetAt?: number;
  /** The running-total row of the window, if one exists: the `since` it counts from, and its tokens. */
  total?: { since: number; tokens: number };
  /** Tokens held by unreleased reservations of runs in the scope, for the provider. */
  held: number;
}

export interface StandingStatement {
  sql: string;
  params: unknown[];
}

/** The statement for `reads` (`pg`: $n placeholders and Postgres's JSON functions, else `?` and json_each). */
export function standingStatement(reads: readonly StandingRead[], pg: boolean): StandingStatement {
  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return pg ? `$${params.length}` : "?";
  };
  const cols: string[] = [];
  reads.forEach((r, i) => {
    const kinds = r.scope === "bottle" || r.scope === "parent" ? ["bottle", "parent"] : [r.scope];
    cols.push(
      `(select max(created_at) from budget_resets where scope in (${kinds.map(p).join(", ")}) and scope_key = ${p(r.key)} and (provider is null or provider = ${p(r.provider)})) as reset_${i}`,
    );
    const row = () => `from budget_totals where scope = ${p(r.scope)} and scope_key = ${p(r.key)} and provider = ${p(r.provider)} and window_start = ${p(r.windowStart)} and window_end = ${p(r.windowEnd ?? NO_WINDOW_END)}`;
    cols.push(`(select since ${row()}) as since_${i}`);
    cols.push(`(select tokens ${row()}) as tokens_${i}`);
    cols.push(
      `(select coalesce(sum(reservations.tokens), 0) from reservations inner join runs on runs.id = reservations.run_id where reservations.provider = ${p(r.provider)} and reservations.released_at is null and ${inScope(r, p, pg)}) as held_${i}`,
    );
  });
  return { sql: `select ${cols.join(", ")}`, params };
}

/** The run `runs.id` belongs to the scope (the same rule as runInScope in src/ledger/totals.ts). */
function inScope(s: ScopeKey, p: (v: unknown) => string, pg: boolean): string {
  switch (s.scope) {
    case "run":
      return `runs.id = ${p(s.key)}`;
    case "agent":
      return `runs.agent = ${p(s.key)}`;
    case "bottle":
    case "parent": {
      const column = s.scope === "bottle" ? "runs.bottles" : "runs.chain";
      return pg
        ? `exists (select 1 from json_array_elements_text(${column}::json) as e(v) where e.v = ${p(s.key)})`
        : `exists (select 1 from json_each(${column}) where json_each.value = ${p(s.key)})`;
    }
    case "global":
      return "1 = 1";
  }
}

/** The statement's one row as facts, one per read (numbers arrive as strings from Postgres's bigint). */
export function standingFactsOf(row: Record<string, unknown> | undefined, count: number): StandingFacts[] {
  const num = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));
  const out: StandingFacts[] = [];
  for (let i = 0; i < count; i++) {
    const f: StandingFacts = { held: num(row?.[`held_${i}`]) ?? 0 };
    const reset = num(row?.[`reset_${i}`]);
    if (reset !== undefined) f.resetAt = reset;
    const since = num(row?.[`since_${i}`]);
    const tokens = num(row?.[`tokens_${i}`]);
    if (since !== undefined && tokens !== undefined) f.total = { since, tokens };
    out.push(f);
  }
  return out;
}
