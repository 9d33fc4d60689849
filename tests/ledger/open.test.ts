/**
 * Opening the ledger: WAL and busy_timeout on a real file, migrations that are idempotent and upgrade an
 * old ledger in place, and a clear LedgerError (path + fix) for a missing directory, a read-only directory
 * (a real read-only mount), a file that is not a ledger, and a ledger from a newer bottle.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "kysely";
import { LedgerError } from "../../src/errors.ts";
import { checkTotals, connectLedger, getRun, LATEST_MIGRATION, openLedger, readTotal, recordUsage, registerRun } from "../../src/ledger/index.ts";
import { usageRow } from "../../src/ledger/usage.ts";
import { appliedMigrations } from "../../src/ledger/migrate.ts";
import { MIGRATIONS } from "../../src/ledger/migrations/index.ts";
import { ledgerFile } from "../support/enforce-db.ts";

const TABLES = ["budget_resets", "budget_totals", "commands", "egress_audit", "enforcement_actions", "reservations", "runs", "usage_events"];

function tables(file: string): string[] {
  const raw = new Database(file, { readonly: true });
  const names = raw.query<{ name: string }, []>("select name from sqlite_master where type = 'table' and name not like 'kysely_%' and name not like 'sqlite_%' order by name").all().map((r) => r.name);
  raw.close();
  return names;
}

async function ledgerErrorOf(p: Promise<unknown>): Promise<LedgerError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(LedgerError);
  return e as LedgerError;
}

describe("a new ledger", () => {
  test("has every table, WAL journaling and a busy timeout", async () => {
    const file = ledgerFile();
    const db = await openLedger({ path: file });
    expect(tables(file)).toEqual(TABLES);
    const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(db);
    expect(mode.rows[0]!.journal_mode).toBe("wal");
    const busy = await sql<{ timeout: number }>`pragma busy_timeout`.execute(db);
    expect(busy.rows[0]!.timeout).toBe(10_000);
    await db.destroy();
  });

  test("the default location is $BOTTLE_HOME/bottle.db, and a missing $BOTTLE_HOME is created", async () => {
    const home = join(mkdtempSync(join(process.env.TMPDIR!, "home-")), "not-yet");
    const saved = process.env.BOTTLE_HOME;
    process.env.BOTTLE_HOME = home;
    try {
      const db = await openLedger();
      await db.destroy();
      expect(existsSync(join(home, "bottle.db"))).toBe(true);
      // The same for the path spelled out (a launcher passing ledgerPath(settings) with no `ledger:` set).
      const other = join(mkdtempSync(join(process.env.TMPDIR!, "home-")), "fresh");
      process.env.BOTTLE_HOME = other;
      await (await openLedger({ path: join(other, "bottle.db") })).destroy();
      expect(existsSync(join(other, "bottle.db"))).toBe(true);
    } finally {
      process.env.BOTTLE_HOME = saved;
    }
  });
});

describe("migrations", () => {
  test("opening twice is a no-op the second time; data stays", async () => {
    const file = ledgerFile();
    const a = await openLedger({ path: file });
    await registerRun(a, { id: "r1", agent: "coder" });
    await a.destroy();
    const b = await openLedger({ path: file });
    expect((await getRun(b, "r1"))?.agent).toBe("coder");
    await b.destroy();
    const raw = new Database(file);
    expect(appliedMigrations(raw)).toEqual(Object.keys(MIGRATIONS).sort());
    raw.close();
  });

  test("an old ledger (first migration only) is upgraded on open, keeping its rows", async () => {
    const file = ledgerFile();
    const old = await openLedger({ path: file, migrateTo: "0001-core" });
    await registerRun(old, { id: "old-run", agent: "coder", bottles: ["dev"] });
    // Written the way a bottle of that version wrote it (no running totals yet).
    await old.insertInto("usage_events").values(usageRow({ runId: "old-run", provider: "claude", totalTokens: 1234, inputTokens: 1000, outputTokens: 234, at: 1 })).execute();
    await old.destroy();
    expect(tables(file)).not.toContain("egress_audit");

    const db = await openLedger({ path: file });
    expect(tables(file)).toEqual(TABLES);
    const usage = await db.selectFrom("usage_events").select(["run_id", "total_tokens", "input_tokens"]).execute();
    expect(usage).toEqual([{ run_id: "old-run", total_tokens: 1234, input_tokens: 1000 }]);
    // The running totals start empty and are rebuilt from the old usage when a budget first reads them.
    expect(await db.selectFrom("budget_totals").selectAll().execute()).toEqual([]);
    expect(await readTotal(db, { scope: "agent", key: "coder", provider: "claude", since: 0 })).toBe(1234);
    expect(await checkTotals(db)).toEqual({ rows: 1, mismatches: [] });
    await db.insertInto("egress_audit").values({ run_id: "old-run", created_at: 2, host: "h", method: "GET", path: "/", status: 200, decision: "mitm", reason: null, bytes_up: 0, bytes_down: 0, duration_ms: 1 }).execute();
    await db.destroy();
    const raw = new Database(file);
    expect(appliedMigrations(raw).at(-1)).toBe(LATEST_MIGRATION);
    raw.close();
  });

  test("migration 0004: usage recorded under an API host's provider moves to the run's provider (one key per budget)", async () => {
    const file = ledgerFile();
    const old = await openLedger({ path: file, migrateTo: "0003-budget-totals" });
    await registerRun(old, { id: "pi-run", agent: "pi", provider: "pi" });
    await registerRun(old, { id: "proxy-run", agent: "", label: "proxy" });
    await recordUsage(old, [
      { runId: "pi-run", provider: "claude", host: "api.anthropic.com", totalTokens: 100, at: 1 },
      { runId: "pi-run", provider: "codex", host: "api.openai.com", totalTokens: 50, at: 2 },
      { runId: "proxy-run", provider: "codex", host: "api.openai.com", totalTokens: 7, at: 3 },
    ]);
    await old.destroy();
    const db = await openLedger({ path: file });
    const rows = await db.selectFrom("usage_events").select(["run_id", "provider", "host", "total_tokens"]).orderBy("id").execute();
    expect(rows).toEqual([
      { run_id: "pi-run", provider: "pi", host: "api.anthropic.com", total_tokens: 100 },
      { run_id: "pi-run", provider: "pi", host: "api.openai.com", total_tokens: 50 },
      { run_id: "proxy-run", provider: "codex", host: "api.openai.com", total_tokens: 7 },
    ]);
    await db.destroy();
  });

  test("a ledger written by a newer bottle is refused, not rewritten", async () => {
    const file = ledgerFile();
    await (await openLedger({ path: file })).destroy();
    const raw = new Database(file);
    raw.run("insert into kysely_migration (name, timestamp) values ('9999-from-the-future', '2030-01-01T00:00:00.000Z')");
    raw.close();
    const e = await ledgerErrorOf(openLedger({ path: file }));
    expect(e.message).toContain(file);
    expect(e.message).toContain("newer bottle");
    expect(e.context.fix).toContain("upgrade bottle");
  });

  test("connectLedger migrates before its first query", async () => {
    const file = ledgerFile();
    const db = connectLedger({ path: file });
    expect(await db.selectFrom("runs").selectAll().execute()).toEqual([]);
    await db.destroy();
    expect(tables(file)).toEqual(TABLES);
  });
});

describe("a ledger that cannot be opened", () => {
  test("missing directory: names the path and how to fix it", async () => {
    const dir = join(mkdtempSync(join(process.env.TMPDIR!, "gone-")), "no", "such", "dir");
    const path = join(dir, "bottle.db");
    const e = await ledgerErrorOf(openLedger({ path }));
    expect(e.message).toBe(`cannot open the ledger at ${path}: the directory ${dir} does not exist`);
    expect(e.context.file).toBe(path);
    expect(e.context.fix).toContain(`mkdir -p ${dir}`);
    expect(e.context.fix).toContain("`ledger:` in settings.yml");
    expect(existsSync(dir)).toBe(false);
  });

  test("a directory where the file should be", async () => {
    const path = mkdtempSync(join(process.env.TMPDIR!, "isdir-"));
    const e = await ledgerErrorOf(openLedger({ path }));
    expect(e.message).toContain(`${path} is a directory`);
  });

  test("a file that is not a ledger", async () => {
    const path = join(mkdtempSync(join(process.env.TMPDIR!, "junk-")), "bottle.db");
    writeFileSync(path, "this is not an SQLite database, just text that is long enough to have a header".repeat(20));
    const e = await ledgerErrorOf(openLedger({ path }));
    expect(e.message).toContain(`cannot open the ledger at ${path}`);
    expect(e.context.fix).toContain("bottle ledger");
  });

  for (const existing of [false, true]) {
    test(`read-only directory (a real read-only mount), ${existing ? "existing ledger" : "no ledger yet"}`, async () => {
      const dir = mkdtempSync(join(process.env.TMPDIR!, "ro-"));
      const path = join(dir, "bottle.db");
      if (existing) await (await openLedger({ path })).destroy();
      const p = Bun.spawn(["bwrap", "--bind", "/", "/", "--ro-bind", dir, dir, "--dev", "/dev", "--proc", "/proc", "bun", join(import.meta.dir, "../support/ledger-open.ts"), path], {
        stdout: "pipe",
        stderr: "pipe",
      });
      const timer = setTimeout(() => p.kill("SIGKILL"), 30_000);
      const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
      clearTimeout(timer);
      expect(code).toBe(0);
      const r = JSON.parse(out) as { ok: boolean; name: string; message: string; context: { file: string; fix: string } };
      expect(r.ok).toBe(false);
      expect(r.name).toBe("LedgerError");
      expect(r.message).toContain(`cannot write the ledger at ${path}`);
      expect(r.message).toContain("read-only (EROFS)");
      expect(r.context.file).toBe(path);
      expect(r.context.fix).toContain("make it writable");
    });
  }
});
