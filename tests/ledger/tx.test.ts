/**
 * Waiting for the ledger's write lock never freezes the process: while another process holds the lock,
 * timers (and so every stream the proxy relays) keep running, and the transaction goes through once the
 * lock is released. With SQLite's own busy handler the wait would be a sleep inside the call.
 */
import { afterEach, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { join } from "node:path";
import { openLedger, type LedgerDb } from "../../src/ledger/index.ts";
import { immediate } from "../../src/ledger/tx.ts";
import { sql } from "kysely";
import { ledgerFile } from "../support/enforce-db.ts";

let holder: Subprocess<"pipe", "pipe", "inherit"> | undefined;
let db: LedgerDb | undefined;
afterEach(async () => {
  if (holder && holder.exitCode === null) holder.kill("SIGKILL");
  await db?.destroy();
  holder = db = undefined;
});

async function holdLock(file: string): Promise<Subprocess<"pipe", "pipe", "inherit">> {
  const p = Bun.spawn(["bun", join(import.meta.dir, "../support/hold-write-lock.ts"), file], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const reader = p.stdout.getReader();
  let out = "";
  while (!out.includes("locked\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the lock holder exited early");
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return p;
}

test("a transaction waiting for another process's write lock leaves the event loop running, then commits", async () => {
  const file = ledgerFile();
  db = await openLedger({ path: file });
  holder = await holdLock(file);
  let committed = false;
  const tx = immediate(db, async (conn) => {
    await sql`insert into budget_resets (scope, scope_key, provider, created_at) values ('global', '', null, 1)`.execute(conn);
  }).then(() => (committed = true));
  // Timers fire while the lock is held elsewhere: the wait is not a sleep inside SQLite.
  let ticks = 0;
  for (let i = 0; i < 5; i++) {
    await Bun.sleep(20);
    ticks++;
  }
  expect(ticks).toBe(5);
  expect(committed).toBe(false);
  holder.stdin.write("go\n");
  holder.stdin.end();
  await tx;
  expect(committed).toBe(true);
  const rows = await sql<{ n: number }>`select count(*) as n from budget_resets`.execute(db);
  expect(rows.rows[0]!.n).toBe(1);
  // The connection's busy timeout is back to what it was.
  const t = await sql<{ timeout: number }>`pragma busy_timeout`.execute(db);
  expect(t.rows[0]!.timeout).toBe(10_000);
});
