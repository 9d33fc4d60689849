/**
 * `bottle stop` at the domain level: a live owner (a real stand-in run process polling the ledger) carries
 * the stop out and exits cleanly; a run whose budget already cut it off is still torn down; when the owner
 * is gone the bottle is torn down here and the stop recorded on its behalf; unknown and ended runs are
 * errors.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { sql } from "kysely";
import { applyCommand } from "../../src/enforce/cutoff.ts";
import { pidAlive } from "../../src/enforce/run-control.ts";
import { sqlEnforceStore } from "../../src/enforce/sql-store.ts";
import { getRun, type LedgerDb } from "../../src/ledger/index.ts";
import { stopRun } from "../../src/runs/stop.ts";
import { addRun, ledgerFile, openTestLedger } from "../support/enforce-db.ts";
import { killStandins, startStandin } from "../support/standin.ts";

afterEach(killStandins);

async function actions(file: string, runId: string) {
  const db = openTestLedger(file);
  const rows = await db.selectFrom("enforcement_actions").select(["kind", "trigger"]).where("run_id", "=", runId).orderBy(sql`id`).execute();
  await db.destroy();
  return rows;
}

describe("stopRun", () => {
  test("a live owner stops its bottle, marks the command done and exits cleanly", async () => {
    const file = ledgerFile();
    const s = await startStandin(file, "stop-live");
    const db = openTestLedger(file);
    const out = await stopRun(db as unknown as LedgerDb, "stop-live");
    expect(out).toEqual({ runId: "stop-live", via: "owner", result: "done" });
    expect(await s.proc.exited).toBe(0);
    expect(pidAlive(s.bottlePid)).toBe(false);
    expect(await actions(file, "stop-live")).toEqual([{ kind: "stop", trigger: "user" }]);
    await db.destroy();
  });

  test("a run its budget cut off is still torn down by stop", async () => {
    const file = ledgerFile();
    const s = await startStandin(file, "stop-cut");
    const db = openTestLedger(file);
    const store = sqlEnforceStore(db);
    await applyCommand(store, undefined, "stop-cut", "cutoff", "budget");
    expect(pidAlive(s.bottlePid)).toBe(true);
    expect((await stopRun(db as unknown as LedgerDb, "stop-cut")).result).toBe("done");
    expect(await s.proc.exited).toBe(0);
    expect(await actions(file, "stop-cut")).toEqual([
      { kind: "cutoff", trigger: "budget" },
      { kind: "stop", trigger: "user" },
    ]);
    await db.destroy();
  });

  test("owner gone: the bottle is torn down here and the stop recorded; a second stop finds nothing", async () => {
    const file = ledgerFile();
    const db = openTestLedger(file);
    const dead = Bun.spawn(["true"]);
    await dead.exited;
    await addRun(db, { id: "orphan", agent: "a", pid: dead.pid });
    let up = true;
    const opts = { teardown: async () => up && !(up = false) };
    const ledger = db as unknown as LedgerDb;
    expect(await stopRun(ledger, "orphan", opts)).toEqual({ runId: "orphan", via: "backend", result: "done" });
    expect(up).toBe(false);
    expect(await actions(file, "orphan")).toEqual([{ kind: "stop", trigger: "user" }]);
    expect(await getRun(ledger, "orphan")).toMatchObject({ state: "ended", stopReason: "user" });
    await expect(stopRun(ledger, "orphan", opts)).rejects.toThrow(/is not running \(it has ended/);
    await expect(stopRun(ledger, "nobody", opts)).rejects.toThrow(/no run "nobody"/);
    await db.destroy();
  });
});
