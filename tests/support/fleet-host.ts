/**
 * One "host" of a fleet, as a separate process: its own BOTTLE_HOME and host name (set by the parent in
 * the environment), one run registered on the shared Postgres ledger, and metered "requests" admitted
 * against a global budget the way the proxy hooks do (tests/support/admit-pool.ts). Prints "ready", waits
 * for a line on stdin so that every host starts at once, then prints a JSON summary and exits.
 * argv: ledgerUrl runId count limit usage mode(off|estimate) reserve inflight
 */
import type { RunBudgetPlan } from "../../src/enforce/admission.ts";
import { sqlEnforceStore } from "../../src/enforce/sql-store.ts";
import { runRequests } from "./admit-pool.ts";
import { addRun, openTestLedger } from "./enforce-db.ts";

const [url, runId, count, limit, usage, mode, reserve, inflight] = process.argv.slice(2) as [string, string, string, string, string, "off" | "estimate", string, string];
const db = openTestLedger(url);
const store = sqlEnforceStore(db);
await addRun(db, { id: runId, agent: "fleet-agent", pid: process.pid });
const plan: RunBudgetPlan = { runId, timeZone: "UTC", preflight: mode, budgets: { claude: { provider: "claude", tokens: Number(limit), scope: "global", name: "" } } };

process.stdout.write("ready\n");
for await (const _ of console) break;

const r = await runRequests({ db, store, plan, count: Number(count), inflight: Number(inflight), usage: Number(usage), ...(mode === "estimate" ? { reserve: Number(reserve) } : {}) });
process.stdout.write(`${JSON.stringify(r)}\n`);
await db.destroy();
