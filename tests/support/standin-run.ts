/**
 * A live run standing in for `bottle run`: a real process that owns a run in the ledger (its pid is the
 * run's owner), holds a "bottle" (a detached `sleep` process group) and polls the ledger's command queue the
 * way a launch does, acting through ProcessRunControl. When its bottle ends (stopped, killed) it stops
 * polling, which waits for the command in flight to be marked done, closes the ledger and exits 0, as a
 * launch does when its agent exits. Prints one JSON line {runId, pid, bottlePid} once it polls.
 * argv: ledgerFile runId agent [bottle…]
 */
import { spawn } from "node:child_process";
import { startCommandPoller } from "../../src/enforce/command-poller.ts";
import { ProcessRunControl } from "../../src/enforce/run-control.ts";
import { sqlCommandQueue, sqlEnforceStore } from "../../src/enforce/sql-store.ts";
import { addRun, openTestLedger } from "./enforce-db.ts";

const [file, runId, agent, ...bottles] = process.argv.slice(2) as [string, string, string, ...string[]];
const db = openTestLedger(file);
await addRun(db, { id: runId, agent, bottles, pid: process.pid });

const bottle = spawn("sleep", ["600"], { detached: true, stdio: "ignore" });
const bottlePid = bottle.pid!;
const stopPolling = startCommandPoller(sqlEnforceStore(db), sqlCommandQueue(db), runId, new ProcessRunControl(() => bottlePid), 100);

bottle.on("exit", async () => {
  await stopPolling();
  await db.destroy();
  process.exit(0);
});
process.on("SIGTERM", () => {
  try {
    process.kill(-bottlePid, "SIGKILL");
  } catch {
    /* already gone */
  }
});
process.stdout.write(`${JSON.stringify({ runId, pid: process.pid, bottlePid })}\n`);
