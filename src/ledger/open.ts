/**
 * Opening the ledger: one SQLite file (default `$BOTTLE_HOME/bottle.db`, or settings.yml `ledger:`) in WAL
 * mode with a busy timeout, so several bottle processes share it without SQLITE_BUSY errors, migrated to the
 * latest schema on open. Problems a user can fix (a missing or read-only directory, a file that is not a
 * ledger, a ledger from a newer bottle) become one LedgerError naming the path and the fix, because every
 * metered request depends on the ledger and refuses when it cannot be written.
 *
 * `connectLedger` is synchronous and migrates on first use (the first query waits for it);
 * `openLedger` migrates before it returns, so its errors surface at once.
 */
import { Database as Sqlite } from "bun:sqlite";
import { accessSync, constants, existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { Kysely, sql, SqliteDialect, type SqliteDatabase } from "kysely";
import { LedgerError } from "../errors.ts";
import { bottleHome, homePaths } from "../paths.ts";
import type { Database, LedgerDb } from "./database.ts";
import { appliedMigrations, migrateSqlite } from "./migrate.ts";
import { quickCheck, refuseEmptyLedger } from "./integrity.ts";
import { isPostgresUrl } from "./dialect.ts";
import { connectPostgres, ledgerUrlOf, openPostgres } from "./postgres/open.ts";
import { isBusy, waitsOnTimers } from "./tx.ts";
import { standingFactsOf, standingStatement, type StandingFacts, type StandingRead } from "./standing-query.ts";

export interface OpenLedgerOptions {
  /** The SQLite file; default `$BOTTLE_HOME/bottle.db`. Pass settings.yml's `ledger:` here. */
  path?: string;
  /** Create a missing parent directory (default: only when it is $BOTTLE_HOME itself). */
  createDir?: boolean;
  /** How long a writer waits for another process's write lock (ms). */
  busyTimeoutMs?: number;
  /** Migrate only up to this migration (for upgrade tests); default the latest. */
  migrateTo?: string;
}

export const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

/**
 * Where the ledger lives: BOTTLE_LEDGER_URL (a fleet ledger, `postgres://…`), else settings.yml `ledger:`
 * (a file relative to $BOTTLE_HOME, or a `postgres://` URL), else `$BOTTLE_HOME/bottle.db`.
 */
export function ledgerPath(settings?: { ledger?: string }, home = bottleHome()): string {
  const env = process.env.BOTTLE_LEDGER_URL;
  if (env) return env;
  const p = settings?.ledger;
  if (!p) return homePaths(home).ledger;
  if (isPostgresUrl(p)) return p;
  return isAbsolute(p) ? p : resolve(home, p);
}

const WHERE = "set `ledger:` in settings.yml (or BOTTLE_HOME) to a writable location";

function errCode(e: unknown): string {
  const c = (e as { code?: unknown }).code;
  return typeof c === "string" ? c : e instanceof Error ? e.message : String(e);
}

function checkLocation(path: string, createDir: boolean): void {
  const dir = dirname(path);
  if (!existsSync(dir)) {
    if (!createDir) {
      throw new LedgerError(`cannot open the ledger at ${path}: the directory ${dir} does not exist`, {
        file: path,
        fix: `create it (mkdir -p ${dir}), or ${WHERE}`,
      });
    }
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new LedgerError(`cannot create the ledger directory ${dir} (${errCode(e)})`, { file: path, fix: `make its parent writable, or ${WHERE}` });
    }
  }
  if (existsSync(path) && statSync(path).isDirectory()) {
    throw new LedgerError(`the ledger path ${path} is a directory`, { file: path, fix: "point `ledger:` in settings.yml at a file, e.g. bottle.db inside it" });
  }
  try {
    accessSync(dir, constants.W_OK);
    if (existsSync(path)) accessSync(path, constants.R_OK | constants.W_OK);
  } catch (e) {
    throw new LedgerError(`cannot write the ledger at ${path}: ${existsSync(path) ? "the file" : `the directory ${dir}`} is read-only (${errCode(e)})`, {
      file: path,
      fix: `make it writable (SQLite also writes ${path}-wal and -shm beside it), or ${WHERE}`,
    });
  }
}

/**
 * `journal_mode = wal`, retried while another process is switching the same new file: SQLite answers
 * SQLITE_BUSY at once there (its busy handler is not used for that lock), which the busy timeout cannot
 * absorb. Opening is synchronous, so the retry sleeps synchronously, a few ms at a time, up to the timeout.
 */
function walMode(raw: Sqlite, busyTimeoutMs: number): string | undefined {
  const deadline = Date.now() + Math.max(busyTimeoutMs, 1000);
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    try {
      return raw.query<{ journal_mode: string }, []>("pragma journal_mode = wal").get()?.journal_mode;
    } catch (e) {
      if (!isBusy(e) || Date.now() >= deadline) throw e;
    }
    Bun.sleepSync(delay);
  }
}

function openSqlite(path: string, busyTimeoutMs: number): Sqlite {
  refuseEmptyLedger(path);
  let raw: Sqlite | undefined;
  try {
    raw = new Sqlite(path, { create: true });
    // busy_timeout first: switching to WAL needs a lock another process may hold for a moment.
    raw.exec(`pragma busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    const mode = walMode(raw, busyTimeoutMs);
    if (mode !== "wal") throw new Error(`the file system refused WAL mode (journal_mode is ${mode})`);
    // WAL + NORMAL: a commit survives the process being killed at any point; only an OS crash or power loss
    // can lose the last commits (never corrupt the file).
    raw.exec("pragma synchronous = normal");
    const damage = quickCheck(raw);
    if (damage.length > 0) {
      throw new LedgerError(`the ledger at ${path} is damaged (${damage.slice(0, 3).join("; ")}); no request is admitted on it`, {
        file: path,
        fix: "restore it from a backup, or move it aside to start a new ledger (its history stays in the moved file); `bottle ledger check` shows the damage",
      });
    }
    return raw;
  } catch (e) {
    raw?.close();
    if (e instanceof LedgerError) throw e;
    throw new LedgerError(`cannot open the ledger at ${path}: ${e instanceof Error ? e.message : String(e)}`, {
      file: path,
      fix: `check that it is a bottle ledger (an SQLite file) on a local disk, or ${WHERE}`,
    }, { cause: e });
  }
}

/**
 * SQLite's query planner needs statistics, or on a ledger with history it guesses badly: counting one run's
 * usage (a `--budget` run's admission, a dashboard row) walked every event of the provider instead of the
 * run's own, 80 ms instead of 0.2 ms at 200,000 events. `pragma optimize` (0x10012: check every table,
 * analyze with a bounded sample) analyzes only tables whose size changed a lot since it last did, about
 * 10 ms when it does and nothing most times. It never waits for another process's write lock: a busy ledger
 * is left for the next open.
 */
function refreshPlannerStats(raw: Sqlite, busyTimeoutMs: number): void {
  raw.exec("pragma busy_timeout = 0");
  try {
    raw.exec("pragma optimize = 0x10012");
  } catch {
    // busy, or read-only: the planner keeps the statistics it has
  } finally {
    raw.exec(`pragma busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  }
}

const raws = new WeakMap<object, Sqlite>();
const paths = new WeakMap<object, string>();
const busyTimeouts = new WeakMap<object, number>();
const lockWaiters = new WeakMap<object, Kysely<Database>>();
const extraHandles = new WeakMap<Sqlite, Sqlite[]>();

/**
 * The handle kysely drives, with every statement prepared once: kysely asks for `prepare(sql)` on each
 * query, and bun:sqlite's `query(sql)` returns the statement it compiled the first time it saw that SQL.
 * (kysely serialises a connection's queries, so one cached statement is never used by two at once.)
 * Closing it closes the extra handles opened beside it (lockWaiter).
 */
function preparedOnce(raw: Sqlite): SqliteDatabase {
  return {
    prepare: (q: string) => raw.query(q),
    close: () => {
      for (const h of extraHandles.get(raw) ?? []) h.close();
      raw.close();
    },
  } as unknown as SqliteDatabase;
}

/**
 * A second connection to the same ledger for transactions that wait for the write lock on timers (see
 * tx.ts): its busy_timeout is 0 for good, so `BEGIN IMMEDIATE` is one statement when nobody else holds
 * the lock, instead of four (read the timeout, clear it, begin, restore it). Opened once per ledger
 * handle, closed with it. undefined for a kysely instance this module did not open.
 */
export function lockWaiter(db: object): Kysely<Database> | undefined {
  const hit = lockWaiters.get(db);
  if (hit) return hit;
  const raw = raws.get(db);
  const path = paths.get(db);
  if (!raw || !path) return undefined;
  const side = new Sqlite(path);
  side.exec("pragma busy_timeout = 0");
  side.exec("pragma synchronous = normal");
  extraHandles.set(raw, [...(extraHandles.get(raw) ?? []), side]);
  const k = new Kysely<Database>({ dialect: new SqliteDialect({ database: preparedOnce(side) }) });
  // Schema first: the main connection migrates before its first query.
  const ready = db as Kysely<Database>;
  lockWaiters.set(db, k);
  waitsOnTimers(k, busyTimeouts.get(db) ?? DEFAULT_BUSY_TIMEOUT_MS, () => sql`select 1`.execute(ready));
  return k;
}

/** Reads budget standings on a connection of their own; undefined when that connection found the ledger busy. */
export type StandingReader = (reads: readonly StandingRead[]) => Promise<StandingFacts[] | undefined>;

const standingReaders = new WeakMap<object, StandingReader>();

/**
 * Admission's reads (src/ledger/standing-query.ts) on a third connection to the ledger, which only ever
 * runs that one SELECT: a single statement is a consistent snapshot by itself (no BEGIN/COMMIT), it takes
 * no lock, and being synchronous it cannot interleave with the lock-waiting connection's transactions.
 * `PRAGMA data_version` on this connection changes whenever any other connection (this process's writer
 * and lock waiter included, any other process too) commits; while it has not changed, the same reads get
 * the answer they got last time without running the statement, so the crossing check after a request and
 * the next request's admission cost one pragma when nothing was charged in between. A busy answer (rare
 * for a WAL reader) returns undefined and the caller reads through the lock-waiting connection instead.
 * undefined for a kysely instance this module did not open.
 */
export function standingReader(db: object): StandingReader | undefined {
  const hit = standingReaders.get(db);
  if (hit) return hit;
  const raw = raws.get(db);
  const path = paths.get(db);
  if (!raw || !path) return undefined;
  let handle: Sqlite | undefined;
  let ready: Promise<unknown> | undefined;
  let migrated = false;
  let version: number | undefined;
  const memo = new Map<string, StandingFacts[]>();
  const reader: StandingReader = async (reads) => {
    if (!migrated) {
      // The schema first: the main connection migrates before its first query.
      await (ready ??= sql`select 1`.execute(db as Kysely<Database>).catch((e: unknown) => ((ready = undefined), Promise.reject(e))));
      migrated = true;
    }
    if (!handle) {
      handle = new Sqlite(path);
      handle.exec("pragma busy_timeout = 0");
      extraHandles.set(raw, [...(extraHandles.get(raw) ?? []), handle]);
    }
    try {
      const v = handle.query<{ data_version: number }, []>("pragma data_version").get()?.data_version;
      if (v !== version) {
        memo.clear();
        version = v;
      }
      const st = standingStatement(reads, false);
      const key = `${st.sql}\u0000${JSON.stringify(st.params)}`;
      const known = memo.get(key);
      if (known) return known;
      const row = handle.query(st.sql).get(...(st.params as never[])) as Record<string, unknown> | null;
      const facts = standingFactsOf(row ?? undefined, reads.length);
      if (memo.size >= 64) memo.clear();
      memo.set(key, facts);
      return facts;
    } catch (e) {
      if (isBusy(e)) return undefined;
      throw e;
    }
  };
  standingReaders.set(db, reader);
  return reader;
}

/** The SQLite file behind a ledger opened here (undefined for any other kysely instance). */
export function ledgerFileOf(db: object): string | undefined {
  return paths.get(db);
}

/** What to call a ledger in messages: its file, or its fleet URL with the password hidden. */
export function ledgerLocation(db: object): string | undefined {
  return paths.get(db) ?? ledgerUrlOf(db);
}

/** Opens the ledger without waiting: migrations run before the first query does. */
export function connectLedger(o: OpenLedgerOptions = {}): LedgerDb {
  if (isPostgresUrl(o.path)) return connectPostgres(o.path, o.migrateTo ? { migrateTo: o.migrateTo } : {});
  const path = resolve(o.path ?? homePaths().ledger);
  // A missing $BOTTLE_HOME is created (a fresh install); a configured path elsewhere is not (a typo in
  // settings.yml should not create directories).
  checkLocation(path, o.createDir ?? dirname(path) === resolve(bottleHome()));
  const raw = openSqlite(path, o.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({
      database: preparedOnce(raw),
      onCreateConnection: async () => {
        const existed = appliedMigrations(raw).length > 0;
        await migrateSqlite(raw, path, o.migrateTo);
        // A ledger this open created holds nothing to analyze yet.
        if (existed) refreshPlannerStats(raw, o.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
      },
    }),
  });
  raws.set(db, raw);
  paths.set(db, path);
  busyTimeouts.set(db, o.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
  return db;
}

/** Opens and migrates the ledger; every problem is a LedgerError naming the file. */
export async function openLedger(o: OpenLedgerOptions = {}): Promise<LedgerDb> {
  if (isPostgresUrl(o.path)) return openPostgres(o.path, o.migrateTo ? { migrateTo: o.migrateTo } : {});
  const db = connectLedger(o);
  try {
    await sql`select 1`.execute(db);
  } catch (e) {
    raws.get(db)?.close();
    throw e;
  }
  return db;
}
