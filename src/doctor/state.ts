/**
 * The state half of `bottle doctor`: what $BOTTLE_HOME holds. settings.yml and the manifests are loaded
 * exactly as a launch loads them (so their errors read the same, naming file, key and fix); the CA and the
 * ledger are only read, never created or migrated, so running doctor changes nothing.
 */
import { Database as Sqlite } from "bun:sqlite";
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { caFiles } from "../ca/authority.ts";
import { isBottleError } from "../errors.ts";
import { sql } from "kysely";
import { isPostgresUrl, redactUrl } from "../ledger/dialect.ts";
import { LATEST_MIGRATION, ledgerPath, openLedger } from "../ledger/index.ts";
import { appliedMigrations } from "../ledger/migrate.ts";
import { loadCatalog, loadSettings } from "../manifest/index.ts";
import type { Settings } from "../manifest/types.ts";
import { homePaths } from "../paths.ts";
import type { Check } from "./types.ts";

function problem(e: unknown): { detail: string; fix?: string } {
  if (isBottleError(e)) {
    const c = e.context;
    const where = [c.file, c.line !== undefined ? `line ${c.line}` : undefined, c.key].filter(Boolean).join(", ");
    return { detail: `${e.message}${where ? ` (${where})` : ""}`, ...(c.fix ? { fix: c.fix } : {}) };
  }
  return { detail: e instanceof Error ? e.message : String(e) };
}

export function settingsCheck(home: string): { check: Check; settings?: Settings } {
  try {
    const settings = loadSettings(home);
    const detail = existsSync(settings.file) ? `${settings.file} is valid` : `no ${settings.file}; the defaults apply`;
    return { check: { name: "settings.yml", status: "ok", detail }, settings };
  } catch (e) {
    const p = problem(e);
    return { check: { name: "settings.yml", status: "fail", detail: p.detail, fix: p.fix ?? `fix ${homePaths(home).settings}` } };
  }
}

export function manifestsCheck(home: string, cwd: string): Check {
  try {
    const c = loadCatalog({ home, cwd });
    const detail = `${c.agents.size} agents, ${c.bottles.size} bottles`;
    if (c.warnings.length > 0) return { name: "manifests", status: "warn", detail: `${detail}; ${c.warnings.join("; ")}`, fix: "see the warnings: each names the file and what to do" };
    return { name: "manifests", status: "ok", detail };
  } catch (e) {
    const p = problem(e);
    return { name: "manifests", status: "fail", detail: p.detail, fix: p.fix ?? "fix the manifest named above" };
  }
}

export function caCheck(home: string): Check {
  const dir = homePaths(home).ca;
  const { certPath, keyPath } = caFiles(dir);
  if (!existsSync(certPath) && !existsSync(keyPath)) return { name: "ca", status: "ok", detail: `not created yet; the first run creates it in ${dir}` };
  if (!existsSync(certPath) || !existsSync(keyPath)) {
    return { name: "ca", status: "fail", detail: `${existsSync(certPath) ? keyPath : certPath} is missing, so the CA in ${dir} is half there`, fix: `remove ${dir} and let the next run create a new CA (agents trust it per run)` };
  }
  try {
    const cert = new X509Certificate(readFileSync(certPath));
    const until = new Date(cert.validTo);
    if (until.getTime() < Date.now()) return { name: "ca", status: "fail", detail: `${certPath} expired on ${until.toISOString().slice(0, 10)}`, fix: `remove ${dir}; the next run creates a new CA` };
    const mode = statSync(keyPath).mode & 0o777;
    if (mode & 0o077) return { name: "ca", status: "warn", detail: `${keyPath} has mode ${mode.toString(8)}; others can read the CA key`, fix: `chmod 600 ${keyPath}` };
    return { name: "ca", status: "ok", detail: `${certPath}, valid until ${until.toISOString().slice(0, 10)}; key mode 600` };
  } catch (e) {
    return { name: "ca", status: "fail", detail: `${certPath} cannot be read as a certificate (${(e as Error).message})`, fix: `remove ${dir}; the next run creates a new CA` };
  }
}

function size(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`;
}

/** A fleet ledger on PostgreSQL: it is opened the way a run opens it, and its runs are counted. */
async function postgresCheck(url: string): Promise<Check> {
  const shown = redactUrl(url);
  try {
    const db = await openLedger({ path: url });
    try {
      const n = await db.selectFrom("runs").select(sql<number>`count(*)`.as("n")).executeTakeFirstOrThrow();
      return { name: "ledger", status: "ok", detail: `${shown}: PostgreSQL answers, ${Number(n.n)} runs` };
    } finally {
      await db.destroy();
    }
  } catch (e) {
    const p = problem(e);
    return { name: "ledger", status: "fail", detail: `${shown} cannot be opened: ${p.detail}`, fix: p.fix ?? "check that the server runs and the URL (settings.yml `ledger:` or BOTTLE_LEDGER_URL) is right" };
  }
}

/**
 * Opens a SQLite ledger read-only: integrity (`quick_check`), schema version and size on disk (with its
 * WAL). A PostgreSQL ledger is connected to instead.
 */
export async function ledgerCheck(home: string, settings: Settings | undefined): Promise<Check> {
  const path = ledgerPath(settings, home);
  if (isPostgresUrl(path)) return postgresCheck(path);
  if (!existsSync(path)) return { name: "ledger", status: "ok", detail: `not created yet; the first run creates ${path}` };
  let db: Sqlite | undefined;
  try {
    db = new Sqlite(path, { readonly: true });
    db.exec("pragma busy_timeout = 5000");
    const rows = db.query<{ quick_check: string }, []>("pragma quick_check").all().map((r) => r.quick_check);
    if (rows.length !== 1 || rows[0] !== "ok") {
      return { name: "ledger", status: "fail", detail: `${path} fails its integrity check: ${rows.slice(0, 3).join("; ")}`, fix: `move ${path} aside (keep it for its history) and let the next run create a new ledger` };
    }
    const applied = appliedMigrations(db);
    const newest = applied.at(-1);
    if (newest && newest > LATEST_MIGRATION) {
      return { name: "ledger", status: "fail", detail: `${path} was written by a newer bottle (schema ${newest}; this one knows ${LATEST_MIGRATION})`, fix: "install the newer bottle again, or set `ledger:` in settings.yml to another file" };
    }
    const wal = existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0;
    const runs = applied.length > 0 ? db.query<{ n: number }, []>("select count(*) as n from runs").get()?.n ?? 0 : 0;
    return { name: "ledger", status: "ok", detail: `${path}: integrity ok, ${size(statSync(path).size + wal)}, ${runs} run${runs === 1 ? "" : "s"}${newest === LATEST_MIGRATION ? "" : ", upgraded on next open"}` };
  } catch (e) {
    const p = problem(e);
    const notDb = /not a database|malformed/i.test(p.detail);
    const fix = notDb ? `move ${path} aside and let the next run create a new ledger, or set \`ledger:\` in settings.yml to the right file` : `check its permissions, or set \`ledger:\` in settings.yml to a readable file`;
    return { name: "ledger", status: "fail", detail: `${path} cannot be opened: ${p.detail}`, fix: p.fix ?? fix };
  } finally {
    db?.close();
  }
}
