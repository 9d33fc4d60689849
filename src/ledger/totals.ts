/**
 * The running-totals repository (table `budget_totals`). Admission must cost the same on an empty ledger
 * and on one with a year of usage, so a budget reads one row per (scope, scope key, provider, window)
 * instead of summing usage_events over its window. The rules that keep a row equal to that sum:
 *
 * - a charge (`addToTotals`) adds each event to every row whose scope holds the event's run, whose provider
 *   is the event's and whose [since, window_end) holds the event's time, in the transaction that inserts
 *   the event;
 * - a row is created by the first read that needs it, rebuilt from usage_events (`readTotal`), and rebuilt
 *   again when the scope's `since` moved (a reset marker however it was written); `bottle budget reset`
 *   also drops the scope's rows (`dropTotals`);
 * - a new window is a new row (its own window_start/window_end): a rollover needs no bookkeeping, and a
 *   charge dated in a past window lands in that window's row only.
 *
 * `checkTotals` recomputes every row from usage_events; `bottle ledger check` prints the result. Every
 * function takes the database (or a transaction on it) first and is plain kysely: the statements are the
 * same on SQLite and Postgres, except `runInScope`'s JSON-array matching, the only dialect-specific part.
 */
import { sql, type Kysely } from "kysely";
import type { ScopeKey, UsageSelection } from "../budget/counting.ts";
import { isPostgres } from "./dialect.ts";
import { parseNames } from "./runs.ts";

/** window_end of a budget without a window (the largest instant a JS Date holds). */
export const NO_WINDOW_END = 8_640_000_000_000_000;

/** The tables this module reads and writes (a subset of the ledger's schema). */
export interface TotalsTables {
  runs: { id: string; agent: string; bottles: string; chain: string };
  usage_events: { run_id: string; provider: string; total_tokens: number; created_at: number };
  budget_totals: { scope: string; scope_key: string; provider: string; window_start: number; window_end: number; since: number; tokens: number };
}

type Db = Kysely<TotalsTables>;

/** `column` (a JSON array of names) holds `name`: SQLite's json_each, Postgres's json_array_elements_text. */
export function jsonListHas(column: string, name: string, pg: boolean) {
  return pg
    ? sql<boolean>`exists (select 1 from json_array_elements_text(${sql.ref(column)}::json) as e(v) where e.v = ${name})`
    : sql<boolean>`exists (select 1 from json_each(${sql.ref(column)}) where json_each.value = ${name})`;
}

/** SQL condition: the run `runs.id` belongs to `scope` (`pg`: the ledger is a fleet ledger). */
export function runInScope(scope: ScopeKey, pg = false) {
  switch (scope.scope) {
    case "run":
      return sql<boolean>`runs.id = ${scope.key}`;
    case "agent":
      return sql<boolean>`runs.agent = ${scope.key}`;
    case "bottle":
      return jsonListHas("runs.bottles", scope.key, pg);
    case "parent":
      return jsonListHas("runs.chain", scope.key, pg);
    case "global":
      return sql<boolean>`1 = 1`;
  }
}

/** The sum the running total stands for: usage of runs in the scope, for the provider, in [since, windowEnd). */
export async function sumUsage(db: Kysely<any>, sel: UsageSelection): Promise<number> {
  const r = await (db as Db)
    .selectFrom("usage_events")
    .innerJoin("runs", "runs.id", "usage_events.run_id")
    .select(sql<number>`coalesce(sum(usage_events.total_tokens), 0)`.as("n"))
    .where("usage_events.provider", "=", sel.provider)
    .where("usage_events.created_at", ">=", sel.since)
    .$if(sel.windowEnd !== undefined, (q) => q.where("usage_events.created_at", "<", sel.windowEnd!))
    .where(runInScope(sel, isPostgres(db)))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

function rowKey(sel: UsageSelection) {
  return { scope: sel.scope, scope_key: sel.key, provider: sel.provider, window_start: sel.windowStart ?? 0, window_end: sel.windowEnd ?? NO_WINDOW_END };
}

/** The running total for `sel` if its row is current, else undefined (reads only). */
export async function peekTotal(db: Kysely<any>, sel: UsageSelection): Promise<number | undefined> {
  const key = rowKey(sel);
  const row = await (db as Db)
    .selectFrom("budget_totals")
    .select(["since", "tokens"])
    .where("scope", "=", key.scope)
    .where("scope_key", "=", key.scope_key)
    .where("provider", "=", key.provider)
    .where("window_start", "=", key.window_start)
    .where("window_end", "=", key.window_end)
    .executeTakeFirst();
  return row && Number(row.since) === sel.since ? Number(row.tokens) : undefined;
}

/**
 * The running total for `sel`, creating or rebuilding its row from usage_events when it is missing or its
 * `since` differs (so call it inside a write transaction). Costs one indexed read once the row exists.
 */
export async function readTotal(db: Kysely<any>, sel: UsageSelection): Promise<number> {
  const current = await peekTotal(db, sel);
  if (current !== undefined) return current;
  const tokens = await sumUsage(db, sel);
  const key = rowKey(sel);
  await (db as Db)
    .insertInto("budget_totals")
    .values({ ...key, since: sel.since, tokens })
    .onConflict((oc) => oc.columns(["scope", "scope_key", "provider", "window_start", "window_end"]).doUpdateSet({ since: sel.since, tokens }))
    .execute();
  return tokens;
}

/** Every scope a run's usage counts in (DESIGN §6; the same rule as runMatches in src/budget/counting.ts). */
export function scopesOf(run: { id: string; agent: string; bottles: readonly string[]; chain: readonly string[] }): ScopeKey[] {
  const out: ScopeKey[] = [{ scope: "global", key: "" }, { scope: "run", key: run.id }, { scope: "agent", key: run.agent }];
  for (const b of new Set(run.bottles)) out.push({ scope: "bottle", key: b });
  for (const b of new Set(run.chain)) out.push({ scope: "parent", key: b });
  return out;
}

/** A run's agent and bottles never change once registered, so each process looks a run up once. */
const runScopes = new WeakMap<object, Map<string, ScopeKey[]>>();

/** The scopes of `runId`, or undefined when the run is not in the ledger (its usage counts in no budget). */
export async function scopesOfRun(db: Kysely<any>, runId: string, cacheKey: object = db): Promise<ScopeKey[] | undefined> {
  let cache = runScopes.get(cacheKey);
  if (!cache) runScopes.set(cacheKey, (cache = new Map()));
  const hit = cache.get(runId);
  if (hit) return hit;
  const r = await (db as Db).selectFrom("runs").select(["id", "agent", "bottles", "chain"]).where("id", "=", runId).executeTakeFirst();
  if (!r) return undefined;
  const scopes = scopesOf({ id: r.id, agent: r.agent, bottles: parseNames(r.bottles), chain: parseNames(r.chain) });
  cache.set(runId, scopes);
  return scopes;
}

/** One charge as the totals see it. */
export interface TotalsCharge {
  scopes: readonly ScopeKey[];
  provider: string;
  at: number;
  tokens: number;
}

/** The statement that adds one charge to every matching row (compiled by the writer, executed by anyone). */
export function chargeQuery(db: Kysely<any>, c: TotalsCharge) {
  return (db as Db)
    .updateTable("budget_totals")
    .set((eb) => ({ tokens: eb("tokens", "+", c.tokens) }))
    .where("provider", "=", c.provider)
    .where("since", "<=", c.at)
    .where("window_end", ">", c.at)
    .where((eb) => eb.or(c.scopes.map((s) => eb.and([eb("scope", "=", s.scope), eb("scope_key", "=", s.key)]))));
}

/** Adds charges to the running totals on `db` (the caller's transaction: the one inserting the events). */
export async function addToTotals(db: Kysely<any>, charges: readonly TotalsCharge[]): Promise<void> {
  for (const c of charges) if (c.tokens !== 0 && c.scopes.length > 0) await chargeQuery(db, c).execute();
}

/** Drops a scope's rows after a reset marker (all providers when none given); the next read rebuilds them. */
export async function dropTotals(db: Kysely<any>, scope: ScopeKey, provider: string | undefined): Promise<void> {
  // A bottle's budget counts as "bottle" or "parent" depending on the run; one reset covers both.
  const kinds = scope.scope === "bottle" || scope.scope === "parent" ? ["bottle", "parent"] : [scope.scope];
  await (db as Db)
    .deleteFrom("budget_totals")
    .where("scope", "in", kinds)
    .where("scope_key", "=", scope.key)
    .$if(provider !== undefined, (q) => q.where("provider", "=", provider!))
    .execute();
}

export interface TotalsMismatch {
  scope: string;
  key: string;
  provider: string;
  windowStart: number;
  windowEnd: number;
  since: number;
  stored: number;
  actual: number;
}

export interface TotalsCheck {
  rows: number;
  mismatches: TotalsMismatch[];
}

/** Recomputes every running total from usage_events; `repair` rewrites the rows that differ. */
export async function checkTotals(db: Kysely<any>, o: { repair?: boolean } = {}): Promise<TotalsCheck> {
  const d = db as Db;
  const rows = await d.selectFrom("budget_totals").selectAll().execute();
  const mismatches: TotalsMismatch[] = [];
  for (const r of rows) {
    const sel: UsageSelection = { scope: r.scope as ScopeKey["scope"], key: r.scope_key, provider: r.provider as UsageSelection["provider"], since: Number(r.since) };
    if (Number(r.window_end) !== NO_WINDOW_END) sel.windowEnd = Number(r.window_end);
    const actual = await sumUsage(db, sel);
    if (actual === Number(r.tokens)) continue;
    mismatches.push({ scope: r.scope, key: r.scope_key, provider: r.provider, windowStart: Number(r.window_start), windowEnd: Number(r.window_end), since: Number(r.since), stored: Number(r.tokens), actual });
    if (o.repair) {
      await d
        .updateTable("budget_totals")
        .set({ tokens: actual })
        .where("scope", "=", r.scope)
        .where("scope_key", "=", r.scope_key)
        .where("provider", "=", r.provider)
        .where("window_start", "=", r.window_start)
        .where("window_end", "=", r.window_end)
        .execute();
    }
  }
  return { rows: rows.length, mismatches };
}
