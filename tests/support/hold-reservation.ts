/**
 * A run process that reserves budget for a request and then hangs mid-request, so a test can kill it and
 * check that the reservation is released on restart. argv: ledger runId reserve
 */
import { admit } from "../../src/enforce/admission.ts";
import { sqlEnforceStore } from "../../src/enforce/sql-store.ts";
import { addRun, openTestLedger } from "./enforce-db.ts";

const [file, runId, reserve] = process.argv.slice(2) as [string, string, string];
const db = openTestLedger(file);
await addRun(db, { id: runId, agent: "crashy", pid: process.pid });
const d = await admit(sqlEnforceStore(db), { runId, timeZone: "UTC", preflight: "estimate", budgets: { claude: { provider: "claude", tokens: 1000, scope: "agent", name: "crashy" } } }, { provider: "claude", reserve: Number(reserve) });
process.stdout.write(`${JSON.stringify(d)}\n`);
await new Promise(() => undefined);
