/**
 * The spool's promise, exactly once: a file left by a process that died is replayed by the next writer,
 * rows whose commit had already landed (the answer was lost with the process) are not counted again, and
 * rows that never landed are, with their reservations released and the running totals charged.
 */
import { expect, test } from "bun:test";
import { sql } from "kysely";
import { existsSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { checkTotals, LedgerWriter, readTotal, registerRun } from "../../src/ledger/index.ts";
import { appendSpool, spooledUsage, type SpooledCharge } from "../../src/ledger/spool.ts";
import { freshPgLedger } from "../support/postgres.ts";
import { openTestLedger } from "../support/enforce-db.ts";
import { insertUsageOnce } from "../../src/ledger/usage.ts";
import { immediate } from "../../src/ledger/tx.ts";

test("a dead writer's spool is replayed once: committed rows are skipped, the rest charged", async () => {
  const home = mkdtempSync(join(process.env.TMPDIR!, "spool-home-"));
  const saved = process.env.BOTTLE_HOME;
  process.env.BOTTLE_HOME = home;
  const db = openTestLedger(freshPgLedger()) as never as Parameters<typeof registerRun>[0];
  try {
    await registerRun(db, { id: "r1", agent: "a", bottles: [], chain: [], pid: 1 });
    const sel = { scope: "global" as const, key: "", provider: "claude" as const, since: 0 };
    expect(await immediate(db, (c) => readTotal(c, sel))).toBe(0);
    await db.insertInto("reservations").values({ id: "res-2", run_id: "r1", provider: "claude", tokens: 500, created_at: 1, released_at: null, settled_tokens: null }).execute();
    const rows: SpooledCharge[] = [
      { uid: "u-1", event: { runId: "r1", provider: "claude", totalTokens: 100, at: Date.now() } },
      { uid: "u-2", event: { runId: "r1", provider: "claude", totalTokens: 250, at: Date.now() }, reservationId: "res-2" },
    ];
    // u-1 was committed before its process died; u-2 was not.
    await immediate(db, (c) => insertUsageOnce(c, rows.slice(0, 1)));
    // A pid that cannot be alive owns the file.
    appendSpool(join(home, "spool", "999999999-dead.jsonl"), rows);
    expect(spooledUsage(home)).toEqual({ rows: 2, tokens: 350, files: 1 });

    const w = new LedgerWriter(db);
    await w.usage({ runId: "r1", provider: "claude", totalTokens: 7, at: Date.now() });
    await w.close();

    const got = await db.selectFrom("usage_events").select([sql<string>`uid`.as("uid"), "total_tokens"]).orderBy("id").execute();
    expect(got.map((r) => [r.uid, r.total_tokens])).toEqual([
      ["u-1", 100],
      ["u-2", 250],
      [expect.any(String), 7],
    ]);
    expect(existsSync(join(home, "spool", "999999999-dead.jsonl"))).toBe(false);
    expect(await db.selectFrom("reservations").select(["released_at", "settled_tokens"]).where("id", "=", "res-2").executeTakeFirst()).toEqual({ released_at: expect.any(Number), settled_tokens: 250 });
    expect(await immediate(db, (c) => readTotal(c, sel))).toBe(357);
    expect((await checkTotals(db)).mismatches).toEqual([]);
    // Replaying the same rows again adds nothing.
    expect(await immediate(db, (c) => insertUsageOnce(c, rows))).toBe(0);
  } finally {
    await db.destroy();
    process.env.BOTTLE_HOME = saved;
  }
});
