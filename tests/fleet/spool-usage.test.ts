/**
 * `bottle budget usage` on a fleet ledger says when usage still waits in this host's spool (delivered while
 * the database was down, not yet sent): one line on stderr and `spooled` in --json. A spooled row whose
 * commit had landed before its process died is in the ledger already and is not reported as waiting.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { openLedger, recordUsage, registerRun } from "../../src/ledger/index.ts";
import { appendSpool, type SpooledCharge } from "../../src/ledger/spool.ts";
import { insertUsageOnce } from "../../src/ledger/usage.ts";
import { immediate } from "../../src/ledger/tx.ts";
import { freshHome, runCli, runCliJson } from "../support/cli.ts";
import { freshPgLedger } from "../support/postgres.ts";

setDefaultTimeout(60_000);

test("usage still in the spool is named on stderr and in --json, without rows that already landed", async () => {
  const url = freshPgLedger();
  const home = freshHome();
  const o = { home, env: { BOTTLE_LEDGER_URL: url } };
  const db = await openLedger({ path: url });
  const at = Date.now() - 1000;
  const rows: SpooledCharge[] = [
    { uid: "landed-1", event: { runId: "r1", provider: "claude", totalTokens: 100, at } },
    { uid: "waiting-1", event: { runId: "r1", provider: "claude", totalTokens: 250, at } },
    { uid: "waiting-2", event: { runId: "r1", provider: "claude", totalTokens: 1000, at } },
  ];
  try {
    await registerRun(db, { id: "r1", agent: "a", pid: 1 });
    await recordUsage(db, [{ runId: "r1", provider: "claude", totalTokens: 40, at }]);

    const clean = await runCli(["budget", "usage"], o);
    expect(clean.code).toBe(0);
    expect(clean.stderr).toBe("");
    expect((await runCliJson<{ spooled: unknown }>(["budget", "usage"], o)).spooled).toEqual({ rows: 0, tokens: 0, files: 0 });

    // landed-1 was committed just before its writer died; the other two never were.
    await immediate(db, (c) => insertUsageOnce(c, rows.slice(0, 1)));
    appendSpool(join(home, "spool", "999999999-dead.jsonl"), rows);

    const r = await runCli(["budget", "usage"], o);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("140");
    expect(r.stderr.trim().split("\n")).toEqual([
      `note: 2 usage rows (1,250 tokens) still wait in this host's spool (${join(home, "spool")}) and are not counted above; they are sent to the ledger by the next bottle process that writes to it once it is reachable`,
    ]);
    const j = await runCliJson<{ spooled: unknown; total: { totalTokens: number } }>(["budget", "usage"], o);
    expect(j.spooled).toEqual({ rows: 2, tokens: 1250, files: 1 });
    expect(j.total.totalTokens).toBe(140);
    const csv = await runCli(["budget", "usage", "--csv"], o);
    expect(csv.stderr).toContain("note: 2 usage rows (1,250 tokens)");
  } finally {
    await db.destroy();
  }
});
