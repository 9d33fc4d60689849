/**
 * The usage repository: one row per metered exchange. `usageEventOf` turns a MeterResult into a row the
 * way the ledger stores it (Anthropic cache reads and OpenAI cached input in their own columns, since one is
 * billed on top of input and the other is inside it); `recordUsage` writes rows atomically.
 */
import type { ApiFormat, MeterResult } from "../metering/types.ts";
import type { LedgerDb } from "./database.ts";
import type { UsageEventsTable } from "./tables/usage-events.ts";
import { CompiledQuery, type Insertable } from "kysely";
import { isPostgres } from "./dialect.ts";
import { chargeUpdate, onPostgres, releaseUpdate, usageInsertOnce, type RowStatement } from "./writer-statements.ts";
import type { SpooledCharge } from "./spool.ts";
import { addToTotals, scopesOfRun, type TotalsCharge } from "./totals.ts";
import { immediate } from "./tx.ts";

export interface UsageEvent {
  runId: string;
  provider: string;
  /** When the usage happened (the response's end), ms since epoch. */
  at: number;
  totalTokens: number;
  agent?: string;
  bottles?: readonly string[];
  chain?: readonly string[];
  format?: ApiFormat;
  /** `count`: a token-counting call (zero usage); `unmetered`: a path the route opted out of metering. Default `usage`. */
  kind?: "usage" | "count" | "unmetered";
  model?: string;
  host?: string;
  method?: string;
  path?: string;
  status?: number;
  inputTokens?: number;
  outputTokens?: number;
  cacheCreationTokens?: number;
  cacheReadTokens?: number;
  cachedTokens?: number;
  reasoningTokens?: number;
  estimated?: boolean;
  errored?: boolean;
  requestId?: string;
  exchangeId?: string;
  startedAt?: number;
  firstByteMs?: number;
  durationMs?: number;
}

/** The exchange facts a usage row carries besides the meter's result. */
export interface ExchangeFacts {
  runId: string;
  provider: string;
  agent?: string;
  bottles?: readonly string[];
  chain?: readonly string[];
  host?: string;
  method?: string;
  path?: string;
  status?: number;
  exchangeId?: string;
  startedAt?: number;
  firstByteAt?: number;
  endedAt: number;
}

export function usageEventOf(r: MeterResult, x: ExchangeFacts): UsageEvent {
  const u = r.usage;
  const anthropic = r.format === "anthropic-messages";
  const { endedAt, firstByteAt, ...facts } = x;
  const e: UsageEvent = {
    ...facts,
    at: endedAt,
    format: r.format,
    kind: r.kind === "count" ? "count" : r.kind === "none" ? "unmetered" : "usage",
    inputTokens: u.inputTokens,
    outputTokens: u.outputTokens,
    cacheCreationTokens: u.cacheCreationInputTokens,
    cacheReadTokens: anthropic ? u.cacheReadInputTokens : 0,
    cachedTokens: anthropic ? 0 : u.cacheReadInputTokens,
    reasoningTokens: u.reasoningTokens,
    totalTokens: r.kind === "usage" ? u.totalTokens : 0,
    estimated: r.estimated,
    errored: r.errored || x.status === undefined || x.status >= 400,
  };
  if (r.model !== undefined) e.model = r.model;
  if (r.requestId !== undefined) e.requestId = r.requestId;
  if (x.startedAt !== undefined) {
    e.durationMs = Math.max(0, endedAt - x.startedAt);
    if (firstByteAt !== undefined) e.firstByteMs = Math.max(0, firstByteAt - x.startedAt);
  }
  return e;
}

/**
 * The rows one exchange leaves: its own, plus one per other model it billed at (Anthropic iterations such as
 * an advisor), each under that model with the same exchange id, so per-model totals stay exact.
 */
export function usageEventsOf(r: MeterResult, x: ExchangeFacts): UsageEvent[] {
  const main = usageEventOf(r, x);
  const others = (r.otherModels ?? []).map((o) => usageEventOf({ ...r, model: o.model, usage: o.usage, otherModels: [] }, x));
  return [main, ...others];
}

const n = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? 0 : Math.round(v));

export function usageRow(e: UsageEvent): Insertable<UsageEventsTable> {
  return {
    run_id: e.runId,
    agent: e.agent ?? "",
    bottles: JSON.stringify(e.bottles ?? []),
    chain: JSON.stringify(e.chain ?? e.bottles ?? []),
    provider: e.provider,
    format: e.format ?? null,
    kind: e.kind ?? "usage",
    model: e.model ?? null,
    host: e.host ?? null,
    method: e.method ?? null,
    path: e.path ?? null,
    status: e.status ?? null,
    input_tokens: n(e.inputTokens),
    output_tokens: n(e.outputTokens),
    cache_creation_tokens: n(e.cacheCreationTokens),
    cache_read_tokens: n(e.cacheReadTokens),
    cached_tokens: n(e.cachedTokens),
    reasoning_tokens: n(e.reasoningTokens),
    total_tokens: n(e.totalTokens),
    estimated: e.estimated ? 1 : 0,
    errored: e.errored ? 1 : 0,
    request_id: e.requestId ?? null,
    exchange_id: e.exchangeId ?? null,
    started_at: e.startedAt ?? null,
    first_byte_ms: e.firstByteMs ?? null,
    duration_ms: e.durationMs ?? null,
    created_at: e.at,
  };
}

/** Rows per INSERT: well under SQLite's bound-parameter limit at ~27 columns a row. */
const CHUNK = 200;

/** What each event adds to the running totals (its run's scopes looked up once per run; `cacheKey` keeps them). */
export async function totalsChargesOf(db: LedgerDb, events: readonly UsageEvent[], cacheKey?: object): Promise<TotalsCharge[]> {
  const out: TotalsCharge[] = [];
  const key = cacheKey ?? {};
  for (const e of events) {
    const tokens = usageRow(e).total_tokens;
    if (tokens === 0) continue;
    const scopes = await scopesOfRun(db, e.runId, key);
    if (scopes) out.push({ scopes, provider: e.provider, at: e.at, tokens });
  }
  return out;
}

/** Inserts rows on `db` as given (the caller's transaction, if any), and adds them to the running totals. */
export async function insertUsage(db: LedgerDb, events: readonly UsageEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += CHUNK) {
    await db.insertInto("usage_events").values(events.slice(i, i + CHUNK).map(usageRow)).execute();
  }
  await addToTotals(db, await totalsChargesOf(db, events));
}

/**
 * Fleet ledger: inserts each row at most once, keyed by its writer-assigned uid (a row replayed from the
 * spool after a commit whose answer was lost finds its uid taken), and charges the running totals and
 * releases the reservations of the rows that were new. Runs on the caller's transaction.
 */
export async function insertUsageOnce(db: LedgerDb, rows: readonly SpooledCharge[]): Promise<number> {
  // Fixed statement texts (writer-statements.ts), nothing built by the query builder per batch.
  const run = (st: RowStatement) => {
    const q = isPostgres(db) ? onPostgres(st) : st;
    return db.executeQuery<{ uid: string }>(CompiledQuery.raw(q.sql, q.params));
  };
  let added = 0;
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    const inserted = await run(usageInsertOnce(chunk));
    const fresh = new Set(inserted.rows.map((r) => r.uid));
    const news = chunk.filter((r) => fresh.has(r.uid));
    added += news.length;
    for (const c of await totalsChargesOf(db, news.map((r) => r.event))) if (c.scopes.length > 0) await run(chargeUpdate(c));
    for (const r of news) if (r.reservationId) await run(releaseUpdate({ id: r.reservationId, at: r.event.at, tokens: usageRow(r.event).total_tokens }));
  }
  return added;
}

/** Writes usage rows in one atomic transaction: all of them land, or none. */
export async function recordUsage(db: LedgerDb, events: readonly UsageEvent[]): Promise<void> {
  if (events.length === 0) return;
  await immediate(db, (conn) => insertUsage(conn, events));
}
