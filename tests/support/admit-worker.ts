/**
 * A separate process making metered "requests" against a shared ledger file: admit (reserving when
 * pre-flight is on), then charge the actual usage and settle, as the proxy hooks do. Prints "ready", waits
 * for a line on stdin, runs `count` requests concurrently, prints a JSON summary and exits.
 * argv: ledger runId agent count limit usage mode(off|estimate) reserve
 */
import { admit, settle, type RunBudgetPlan } from "../../src/enforce/admission.ts";
import { sqlEnforceStore } from "../../src/enforce/sql-store.ts";
import { addRun, charge, openTestLedger } from "./enforce-db.ts";

const [file, runId, agent, count, limit, usage, mode, reserve] = process.argv.slice(2) as [string, string, string, string, string, string, "off" | "estimate", string];
const db = openTestLedger(file);
const store = sqlEnforceStore(db);
await addRun(db, { id: runId, agent, pid: process.pid });
const plan: RunBudgetPlan = { runId, timeZone: "UTC", preflight: mode, budgets: { claude: { provider: "claude", tokens: Number(limit), scope: "agent", name: agent } } };

process.stdout.write("ready\n");
for await (const _ of console) break;

let admitted = 0;
await Promise.all(
  Array.from({ length: Number(count) }, async () => {
    const d = await admit(store, plan, { provider: "claude", ...(mode === "estimate" ? { reserve: Number(reserve) } : {}) });
    if (!d.allow) return;
    admitted++;
    await Bun.sleep(Math.random() * 5);
    await charge(db, runId, "claude", Number(usage));
    await settle(store, plan, { provider: "claude", ...(d.reservationId ? { reservationId: d.reservationId } : {}), charged: Number(usage) });
  }),
);
process.stdout.write(`${JSON.stringify({ admitted })}\n`);
await db.destroy();
