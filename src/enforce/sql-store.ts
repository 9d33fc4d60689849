/**
 * EnforceStore over the ledger's kysely database. Every transaction starts with `BEGIN IMMEDIATE`: SQLite
 * takes the write lock before the first read, so two proxies (in one process or several) cannot both read
 * the same remaining room and both admit. It runs on the ledger's lock-waiting connection (busy timeout
 * 0, waiting on timers: see src/ledger/tx.ts), so the wait never freezes the event loop and an uncontended
 * BEGIN is one statement. `read` is a snapshot on the same connection and takes no lock. Used tokens come
 * from the running totals (src/ledger/totals.ts); admission reads every budget's facts in one statement
 * (`standings`), on SQLite on a reader connection of its own that remembers the answer until any process
 * commits (src/ledger/open.ts, standingReader).
 *
 * Scope matching follows src/budget/counting.ts: runs.bottles and runs.chain are JSON arrays of names.
 */
import { watch } from "node:fs";
import { CompiledQuery, sql, type Kysely } from "kysely";
import type { ScopeKey, UsageSelection } from "../budget/counting.ts";
import type { ProviderName } from "../manifest/types.ts";
import { dropTotals, peekTotal, readTotal, runInScope, type TotalsTables } from "../ledger/totals.ts";
import type { LedgerDb } from "../ledger/database.ts";
import { isPostgres } from "../ledger/dialect.ts";
import { ledgerFileOf, ledgerLocation, lockWaiter, standingReader } from "../ledger/open.ts";
import { standingFactsOf, standingStatement, type StandingRead } from "../ledger/standing-query.ts";
import { insertUsage } from "../ledger/usage.ts";
import { immediate, snapshot } from "../ledger/tx.ts";
import { NeedsWrite, type CommandQueue, type CommandSender, type EnforceStore, type EnforceTx, type EnforcementActionRow, type ReservationRow } from "./store.ts";

/** The columns enforcement reads and writes (a subset of the ledger's tables). */
export interface EnforceTables extends TotalsTables {
  runs: { id: string; agent: string; bottles: string; chain: string; pid: number | null; host: string | null; state: string; ended_at: number | null; stop_reason: string | null };
  usage_events: { run_id: string; provider: string; total_tokens: number; created_at: number };
  reservations: { id: string; run_id: string; provider: string; tokens: number; created_at: number; released_at: number | null; settled_tokens: number | null };
  enforcement_actions: { run_id: string; kind: string; trigger: string; scope: string | null; provider: string | null; used: number | null; limit_tokens: number | null; detail: string | null; created_at: number };
  budget_resets: { scope: string; scope_key: string; provider: string | null; created_at: number };
  commands: { id: number; run_id: string; command: string; created_at: number; done_at: number | null; result: string | null };
}

type Db = Kysely<EnforceTables>;

function txOf(db: Db, readOnly = false): EnforceTx {
  return {
    async standings(reads: readonly StandingRead[]) {
      // Plain SQL text (src/ledger/standing-query.ts): nothing for the query builder to build per request.
      const st = standingStatement(reads, isPostgres(db));
      const r = await db.executeQuery(CompiledQuery.raw(st.sql, st.params));
      return standingFactsOf(r.rows[0] as Record<string, unknown> | undefined, reads.length);
    },
    async usedTokens(sel: UsageSelection) {
      // The running total (one row), rebuilt from usage_events only when it is missing or a reset moved it.
      if (!readOnly) return readTotal(db, sel);
      const n = await peekTotal(db, sel);
      if (n === undefined) throw new NeedsWrite();
      return n;
    },
    async reservedTokens(sel: ScopeKey & { provider: ProviderName }) {
      const r = await db
        .selectFrom("reservations")
        .innerJoin("runs", "runs.id", "reservations.run_id")
        .select(sql<number>`coalesce(sum(reservations.tokens), 0)`.as("n"))
        .where("reservations.provider", "=", sel.provider)
        .where("reservations.released_at", "is", null)
        .where(runInScope(sel, isPostgres(db)))
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },
    async lastReset(scope: ScopeKey, provider: ProviderName) {
      const r = await db
        .selectFrom("budget_resets")
        .select(sql<number | null>`max(created_at)`.as("at"))
        // A bottle's budget is counted as "bottle" or "parent" depending on the run; one reset covers both.
        .where("scope", "in", scope.scope === "bottle" || scope.scope === "parent" ? ["bottle", "parent"] : [scope.scope])
        .where("scope_key", "=", scope.key)
        .where((eb) => eb.or([eb("provider", "is", null), eb("provider", "=", provider)]))
        .executeTakeFirst();
      return r?.at == null ? undefined : Number(r.at);
    },
    async addReservation(r: ReservationRow) {
      await db
        .insertInto("reservations")
        .values({ id: r.id, run_id: r.runId, provider: r.provider, tokens: r.tokens, created_at: r.createdAt, released_at: null, settled_tokens: null })
        .execute();
    },
    async releaseReservation(id: string, at: number, settled: number) {
      const r = await db.updateTable("reservations").set({ released_at: at, settled_tokens: settled }).where("id", "=", id).where("released_at", "is", null).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async lastControlAction(runId: string) {
      const r = await db
        .selectFrom("enforcement_actions")
        .selectAll()
        .where("run_id", "=", runId)
        .where("kind", "in", ["cutoff", "freeze", "kill", "stop", "restore"])
        .orderBy("created_at", "desc")
        .orderBy(sql`id`, "desc")
        .limit(1)
        .executeTakeFirst();
      if (!r) return undefined;
      const row: EnforcementActionRow = { runId: r.run_id, kind: r.kind as EnforcementActionRow["kind"], trigger: r.trigger, at: r.created_at };
      if (r.scope !== null) row.scope = r.scope;
      if (r.provider !== null) row.provider = r.provider as ProviderName;
      if (r.used !== null) row.used = r.used;
      if (r.limit_tokens !== null) row.limit = r.limit_tokens;
      if (r.detail !== null) row.detail = r.detail;
      return row;
    },
    async recordAction(a: EnforcementActionRow) {
      await db
        .insertInto("enforcement_actions")
        .values({
          run_id: a.runId,
          kind: a.kind,
          trigger: a.trigger,
          scope: a.scope ?? null,
          provider: a.provider ?? null,
          used: a.used ?? null,
          limit_tokens: a.limit ?? null,
          detail: a.detail ?? null,
          created_at: a.at,
        })
        .execute();
    },
    async addReset(scope: ScopeKey, provider: ProviderName | undefined, at: number) {
      // Stored under "bottle" for a parent too: lastReset matches both (one budget, one file).
      const kind = scope.scope === "parent" ? "bottle" : scope.scope;
      await db.insertInto("budget_resets").values({ scope: kind, scope_key: scope.key, provider: provider ?? null, created_at: at }).execute();
      await dropTotals(db, scope, provider);
    },
    async reservationHolders() {
      const rows = await db
        .selectFrom("reservations")
        .leftJoin("runs", "runs.id", "reservations.run_id")
        .select(["reservations.run_id as runId", "runs.pid as pid"])
        .where("reservations.released_at", "is", null)
        .distinct()
        .execute();
      return rows.map((r) => ({ runId: r.runId, pid: r.pid ?? null }));
    },
    async chargeRunReservations(runId: string, at: number) {
      const open = await db.selectFrom("reservations").select(["provider", "tokens"]).where("run_id", "=", runId).where("released_at", "is", null).execute();
      if (open.length === 0) return { reservations: 0, tokens: 0 };
      const byProvider = new Map<string, number>();
      for (const r of open) byProvider.set(r.provider, (byProvider.get(r.provider) ?? 0) + Number(r.tokens));
      const events = [...byProvider].map(([provider, tokens]) => ({ runId, provider, totalTokens: tokens, at, estimated: true, path: "(charged at crash recovery: reservations in full)" }));
      await insertUsage(db as unknown as LedgerDb, events);
      await db.updateTable("reservations").set((eb) => ({ released_at: at, settled_tokens: eb.ref("tokens") })).where("run_id", "=", runId).where("released_at", "is", null).execute();
      return { reservations: open.length, tokens: [...byProvider.values()].reduce((a, b) => a + b, 0) };
    },
    async runningRuns(host: string) {
      const rows = await db.selectFrom("runs").select(["id", "pid"]).where("state", "=", "running").where("host", "=", host).where("pid", "is not", null).execute();
      return rows.map((r) => ({ runId: r.id, pid: Number(r.pid) }));
    },
    async markCrashed(runId: string, at: number) {
      const r = await db.updateTable("runs").set({ state: "crashed", ended_at: at, stop_reason: "crashed" }).where("id", "=", runId).where("state", "=", "running").executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async releaseRunReservations(runId: string, at: number) {
      const r = await db.updateTable("reservations").set({ released_at: at, settled_tokens: 0 }).where("run_id", "=", runId).where("released_at", "is", null).executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
  };
}

export { immediate };

/**
 * Enforcement over a ledger opened by src/ledger/open.ts runs on the ledger's lock-waiting connection
 * (busy_timeout 0, waits on timers; `BEGIN IMMEDIATE` is one statement when the lock is free); reads take
 * a snapshot there and no lock. Any other kysely instance is used as it is.
 */
export function sqlEnforceStore(db: Kysely<any>): EnforceStore {
  const location = ledgerLocation(db);
  const conn = (lockWaiter(db) ?? db) as Kysely<any>;
  const reader = standingReader(db);
  return {
    transaction: (fn) => immediate(conn, (c) => fn(txOf(c as Db))),
    read: (fn) => snapshot(conn, (c) => fn(txOf(c as Db, true))),
    // SQLite: one prepared statement on a connection of its own, answered from memory while the ledger is
    // unchanged. Postgres (or a kysely instance not opened as a ledger): the same statement through kysely.
    standings: reader ? async (reads) => (await reader(reads)) ?? txOf(conn as Db, true).standings!(reads) : (reads) => txOf(conn as Db, true).standings!(reads),
    lastControlAction: (runId) => txOf(conn as Db, true).lastControlAction(runId),
    ...(location ? { location } : {}),
  };
}

/**
 * A store whose transactions join one the caller already holds on `conn` (a read snapshot, say), so that
 * budget standings are read alongside the caller's own queries in one consistent view. Takes no lock.
 */
export function sqlStoreOn(conn: Kysely<any>): EnforceStore {
  return { transaction: (fn) => fn(txOf(conn as Db)) };
}

export function sqlCommandQueue(db: Kysely<any>): CommandQueue {
  const d = db as Db;
  let seen: number | undefined;
  // Read on the lock-waiting connection, which no sender writes through: a command enqueued on `db` in this
  // very process changes its data_version too.
  const watcher = lockWaiter(db);
  const file = ledgerFileOf(db);
  return {
    // Every commit in WAL mode writes the -wal file: watching it (inotify) wakes the poller only when
    // something happened. Without a file to watch, the poller falls back to its interval.
    ...(file
      ? {
          watch(onChange: () => void) {
            try {
              const w = watch(`${file}-wal`, { persistent: false }, () => onChange());
              w.on("error", () => undefined);
              return () => w.close();
            } catch {
              return () => undefined;
            }
          },
        }
      : {}),
    // PRAGMA data_version changes when another connection commits: an idle ledger costs no table read.
    async changed() {
      if (!watcher) return true;
      const r = await sql<{ data_version: number }>`pragma data_version`.execute(watcher);
      const v = Number(r.rows[0]?.data_version);
      const changed = v !== seen;
      seen = v;
      return changed;
    },
    async pending(runId) {
      const rows = await d.selectFrom("commands").select(["id", "run_id", "command", "created_at"]).where("run_id", "=", runId).where("done_at", "is", null).orderBy("id").execute();
      return rows.map((r) => ({ id: r.id, runId: r.run_id, command: r.command, createdAt: r.created_at }));
    },
    async complete(id, at, result) {
      await d.updateTable("commands").set({ done_at: at, result }).where("id", "=", id).execute();
    },
  };
}

export function sqlCommandSender(db: Kysely<any>): CommandSender {
  const d = db as Db;
  return {
    async runOwner(runId) {
      const r = await d.selectFrom("runs").select(["pid", "host"]).where("id", "=", runId).executeTakeFirst();
      return r ? { pid: r.pid ?? null, host: r.host } : undefined;
    },
    async enqueue(runId, command, at) {
      const r = await d.insertInto("commands").values({ run_id: runId, command, created_at: at, done_at: null, result: null } as never).returning("id").executeTakeFirstOrThrow();
      return Number((r as { id: number }).id);
    },
    async outcome(id) {
      const r = await d.selectFrom("commands").select(["done_at", "result"]).where("id", "=", id).executeTakeFirst();
      return r && r.done_at !== null ? { doneAt: r.done_at, result: r.result ?? "" } : undefined;
    },
  };
}
