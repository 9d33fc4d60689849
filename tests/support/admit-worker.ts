/**
 * A separate process making metered "requests" against a shared ledger file (tests/support/admit-pool.ts).
 * Prints "ready", waits for a line on stdin, runs `count` requests with at most `inflight` at a time, prints
 * a JSON summary {admitted, maxInFlight} and exits.
 * argv: ledger runId agent count limit usage mode(off|estimate|clamp) reserve inflight [input wanted]
 * In clamp mode `usage` is the natural output of each request, `input` its counted input and `wanted` the
 * output cap it asks for (runClampRequests; the summary adds refused, clamped and retried).
 */
import type { RunBudgetPlan } from "../../src/enforce/admission.ts";
import { sqlEnforceStore } from "../../src/enforce/sql-store.ts";
import { runClampRequests, runRequests } from "./admit-pool.ts";
import { addRun, openTestLedger } from "./enforce-db.ts";

const [file, runId, agent, count, limit, usage, mode, reserve, inflight, input, wanted] = process.argv.slice(2) as [string, string, string, string, string, string, "off" | "estimate" | "clamp", string, string, string?, string?];
const db = openTestLedger(file);
const store = sqlEnforceStore(db);
await addRun(db, { id: runId, agent, pid: process.pid });
const plan: RunBudgetPlan = { runId, timeZone: "UTC", preflight: mode, budgets: { claude: { provider: "claude", tokens: Number(limit), scope: "agent", name: agent } } };

process.stdout.write("ready\n");
for await (const _ of console) break;

const r =
  mode === "clamp"
    ? await runClampRequests({ db, store, plan, count: Number(count), inflight: Number(inflight ?? count), load: { input: Number(input), wanted: Number(wanted), natural: Number(usage) } })
    : await runRequests({ db, store, plan, count: Number(count), inflight: Number(inflight ?? count), usage: Number(usage), ...(mode === "estimate" ? { reserve: Number(reserve) } : {}) });
process.stdout.write(`${JSON.stringify(r)}\n`);
await db.destroy();
