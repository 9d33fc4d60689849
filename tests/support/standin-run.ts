/**
 * A live run standing in for `bottle run`: a real process that owns a run in the ledger (its pid is the
 * run's owner), holds a bottle and polls the ledger's command queue the way a launch does. When its bottle
 * ends (stopped, killed) it stops polling, which waits for the command in flight to be marked done, closes
 * the ledger and exits 0, as a launch does when its agent exits. Prints one JSON line {runId, pid,
 * bottlePid} once it polls.
 *
 * The bottle is a detached `sleep` process group acted on by ProcessRunControl; with STANDIN_BACKEND=sandbox
 * (and STANDIN_HOME, the BOTTLE_HOME) it is a real sandbox bottle running `sleep`, acted on by the backend
 * through BackendRunControl, as a launch does.
 * argv: ledgerFile runId agent [bottle…]
 */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BackendRunControl } from "../../src/backends/run-control.ts";
import { SandboxBackend } from "../../src/backends/sandbox/index.ts";
import { startCommandPoller } from "../../src/enforce/command-poller.ts";
import { ProcessRunControl, type RunControl } from "../../src/enforce/run-control.ts";
import { sqlCommandQueue, sqlEnforceStore } from "../../src/enforce/sql-store.ts";
import { addRun, openTestLedger } from "./enforce-db.ts";

const [file, runId, agent, ...bottles] = process.argv.slice(2) as [string, string, string, ...string[]];
const db = openTestLedger(file);
await addRun(db, { id: runId, agent, bottles, pid: process.pid });

let bottlePid: number;
let control: RunControl;
let ended: Promise<unknown>;
let cleanup = () => {};
if (process.env.STANDIN_BACKEND === "sandbox") {
  const home = process.env.STANDIN_HOME!;
  const socket = join(mkdtempSync(join(tmpdir(), "standin-")), "proxy.sock");
  const proxy = Bun.serve({ unix: socket, fetch: () => new Response("stand-in proxy\n") });
  const backend = new SandboxBackend({ home });
  const workspace = mkdtempSync(join(tmpdir(), "standin-ws-"));
  const h = await backend.create({ runId, label: agent, agent, provider: "claude", cwd: workspace, workspace: "bind", proxySocket: socket, env: {} });
  const p = backend.exec(h, ["sleep", "600"], { attach: "capture" });
  bottlePid = p.pid;
  control = new BackendRunControl(backend, home);
  ended = p.exited;
  cleanup = () => proxy.stop(true);
} else {
  const bottle = spawn("sleep", ["600"], { detached: true, stdio: "ignore" });
  bottlePid = bottle.pid!;
  control = new ProcessRunControl(() => bottlePid);
  ended = new Promise((resolve) => bottle.on("exit", resolve));
  process.on("SIGTERM", () => {
    try {
      process.kill(-bottlePid, "SIGKILL");
    } catch {
      /* already gone */
    }
  });
}
const stopPolling = startCommandPoller(sqlEnforceStore(db), sqlCommandQueue(db), runId, control, 100);

void ended.then(async () => {
  await stopPolling();
  cleanup();
  await db.destroy();
  process.exit(0);
});
process.stdout.write(`${JSON.stringify({ runId, pid: process.pid, bottlePid })}\n`);
