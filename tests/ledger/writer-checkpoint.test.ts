/**
 * The usage writer turns SQLite's automatic checkpoint off on its connection (it ran inside the commit that
 * pushed the WAL past 1,000 pages, and made single-row commits several times as costly) and checkpoints
 * itself instead. What must still hold: the WAL stays bounded under a steady stream of commits, and an
 * idle ledger's commits reach the database file without anyone else checkpointing. A real ledger file;
 * SQLite only (a fleet ledger has no WAL of ours).
 */
import { describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { LedgerWriter, openLedger, registerRun } from "../../src/ledger/index.ts";
import { onPostgres } from "../support/postgres.ts";
import { ledgerFile } from "../support/enforce-db.ts";

const sqliteOnly = onPostgres() ? test.skip : test;
const size = (f: string) => statSync(f).size;

describe("the usage writer checkpoints the WAL itself", () => {
  sqliteOnly("under a steady stream of single-row commits the WAL stays as small as a checkpoint interval's commits", async () => {
    const file = ledgerFile();
    const db = await openLedger({ path: file });
    await registerRun(db, { id: "r1", agent: "a", bottles: ["b"] });
    const w = new LedgerWriter(db, { checkpointEvery: 100, checkpointMs: 60_000 });
    try {
      const one = () => w.usage({ runId: "r1", provider: "claude", totalTokens: 5, inputTokens: 2, outputTokens: 3, model: "m", at: Date.now() });
      for (let i = 0; i < 100; i++) await one();
      const afterInterval = size(`${file}-wal`);
      for (let i = 0; i < 1400; i++) await one();
      // Without a checkpoint the WAL would hold all 1,500 commits' pages (about 15x); checkpointed every
      // 100 commits it is reused from its start and never grows past about one interval's worth.
      expect(size(`${file}-wal`)).toBeLessThanOrEqual(afterInterval * 2);
      const n = await db.selectFrom("usage_events").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
      expect(Number(n.n)).toBe(1500);
    } finally {
      await w.close();
      await db.destroy();
    }
  });

  sqliteOnly("a few commits, then idle: the writer's timer copies them into the database file", async () => {
    const file = ledgerFile();
    const db = await openLedger({ path: file });
    await registerRun(db, { id: "r1", agent: "a", bottles: ["b"] });
    const w = new LedgerWriter(db, { checkpointEvery: 1_000_000, checkpointMs: 50 });
    try {
      const before = size(file);
      for (let i = 0; i < 300; i++) await w.usage({ runId: "r1", provider: "claude", totalTokens: 5, path: "x".repeat(200), at: Date.now() });
      // The database file grows only when a checkpoint copies pages into it; nothing else here checkpoints
      // (the writer's connection has the automatic checkpoint off, and the WAL is far below 1,000 pages).
      let grown = size(file);
      for (let i = 0; i < 200 && grown <= before; i++) {
        await Bun.sleep(50);
        grown = size(file);
      }
      expect(grown).toBeGreaterThan(before);
    } finally {
      await w.close();
      await db.destroy();
    }
  });
});
