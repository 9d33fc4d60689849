/**
 * Opening a fleet ledger: a PostgreSQL database shared by every host of a team, so that one global budget
 * holds across CI runners and laptops. The URL comes from settings.yml `ledger:` or BOTTLE_LEDGER_URL;
 * credentials come from the URL, the standard PG* variables or a password file (the driver reads
 * PGPASSWORD and ~/.pgpass itself), never from a manifest, and never enter a bottle.
 *
 * The driver is `pg` behind kysely's own PostgresDialect: measured beside Bun's built-in client and
 * `postgres` on loopback (docs/ledger.md), it is within noise of the fastest at 4 and 16 writers, needs no
 * adapter code, supports LISTEN/NOTIFY, and compiles into the single binary. Migrations run once per
 * process before the first query, through kysely's Migrator, which on Postgres holds an advisory lock for
 * the whole run: hosts starting at the same moment migrate one after the other. int8 and numeric values
 * (ids, instants, token sums) come back as numbers, as they do from SQLite.
 */
import { Kysely, PostgresDialect, sql } from "kysely";
import { Migrator } from "kysely/migration";
import pg from "pg";
import { LedgerError } from "../../errors.ts";
import type { Database, LedgerDb } from "../database.ts";
import { redactUrl } from "../dialect.ts";
import { pgMigrations, PG_MIGRATIONS } from "./migrations/index.ts";

const INT8 = 20;
const NUMERIC = 1700;
const types = {
  getTypeParser: (oid: number, format?: "text" | "binary") => (oid === INT8 || oid === NUMERIC ? Number : pg.types.getTypeParser(oid, format as "text")),
};

/** How long a statement may wait for a lock (the admission lock included) before it fails, retryably. */
export const PG_LOCK_TIMEOUT_MS = 10_000;

function poolFor(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    types,
    application_name: "bottle",
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 10_000,
    allowExitOnIdle: true,
    options: `-c lock_timeout=${PG_LOCK_TIMEOUT_MS}`,
  } as pg.PoolConfig);
  // A connection that breaks while idle (the database restarted) must not crash the process: the next
  // query opens a new one, or fails and is refused retryably.
  pool.on("error", () => undefined);
  return pool;
}

const FIX = "check that the database is up and reachable from this host, and the URL in settings.yml `ledger:` or BOTTLE_LEDGER_URL (credentials: the URL, PG* variables or ~/.pgpass)";

/** A failure reaching or using a fleet ledger, as a LedgerError that names the (redacted) URL. */
export function pgLedgerError(url: string, e: unknown, doing = "reach"): LedgerError {
  if (e instanceof LedgerError) return e;
  const code = (e as { code?: unknown }).code;
  const msg = e instanceof Error ? e.message || String(code ?? e) : String(e);
  return new LedgerError(`cannot ${doing} the ledger at ${redactUrl(url)}: ${msg}${typeof code === "string" && !msg.includes(code) ? ` (${code})` : ""}`, { file: redactUrl(url), fix: FIX }, { cause: e });
}

/** Brings the database to the latest Postgres migration (serialised across hosts by the Migrator's lock). */
async function migratePostgres(url: string, target?: string): Promise<void> {
  const known = Object.keys(PG_MIGRATIONS).sort();
  if (target !== undefined && !known.includes(target)) throw new LedgerError(`unknown ledger migration ${target}`, { file: redactUrl(url), fix: `use one of ${known.join(", ")}` });
  const side = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: poolFor(url, 1) }) });
  try {
    const applied = await sql<{ name: string }>`select name from kysely_migration order by name`
      .execute(side)
      .then((r) => r.rows.map((x) => x.name))
      .catch(() => [] as string[]);
    const unknown = applied.filter((n) => !known.includes(n));
    if (unknown.length > 0) {
      throw new LedgerError(`the ledger at ${redactUrl(url)} was written by a newer bottle (it has migration ${unknown[0]}, which this bottle does not know)`, {
        file: redactUrl(url),
        fix: "upgrade bottle on this host to the version the other hosts run",
      });
    }
    if (known.every((n) => applied.includes(n))) return;
    const m = new Migrator({ db: side, provider: pgMigrations });
    const r = target === undefined ? await m.migrateToLatest() : await m.migrateTo(target);
    if (r.error) throw r.error;
  } catch (e) {
    throw pgLedgerError(url, e, "migrate");
  } finally {
    await side.destroy();
  }
}

const urls = new WeakMap<object, string>();

/** The (redacted) URL of a fleet ledger opened here; undefined for any other instance. */
export function ledgerUrlOf(db: object): string | undefined {
  const u = urls.get(db);
  return u === undefined ? undefined : redactUrl(u);
}

export interface PgOpenOptions {
  /** Pool size: how many statements this process runs at once. */
  max?: number;
  migrateTo?: string;
}

/** A fleet ledger without waiting: migrations run before the first query. */
export function connectPostgres(url: string, o: PgOpenOptions = {}): LedgerDb {
  let migrated: Promise<void> | undefined;
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({
      pool: poolFor(url, o.max ?? 10),
      onCreateConnection: async () => {
        await (migrated ??= migratePostgres(url, o.migrateTo).catch((e: unknown) => {
          migrated = undefined;
          throw e;
        }));
      },
    }),
  });
  urls.set(db, url);
  return db;
}

/** Opens and migrates a fleet ledger; an unreachable database is a LedgerError naming it. */
export async function openPostgres(url: string, o: PgOpenOptions = {}): Promise<LedgerDb> {
  const db = connectPostgres(url, o);
  try {
    await sql`select 1`.execute(db);
  } catch (e) {
    await db.destroy().catch(() => undefined);
    throw pgLedgerError(url, e);
  }
  return db;
}
