/**
 * One writer of the fleet benchmark (bench/ledger/fleet.ts): a process standing in for a proxy on one host.
 * It opens the ledger (an SQLite file or a postgres:// URL), registers its run, and times `n` rounds of
 * what every metered request costs the ledger: admission against a global claude budget through the store
 * `bottle run` and `bottle proxy` install (sqlEnforceStore, the running total read under the admission
 * lock), then the charge (the usage row and the running totals, one transaction). Prints "ready" after a
 * warm-up, waits for "go" on stdin, and prints "done" when its rounds are over.
 * argv: ledger n
 */
import { sqlEnforceStore } from "../../src/enforce/sql-store.ts";
import { admit } from "../../src/enforce/admission.ts";
import { openLedger, recordUsage, registerRun } from "../../src/ledger/index.ts";

const [ledger, nArg] = process.argv.slice(2) as [string, string];
const n = Number(nArg);
const db = await openLedger({ path: ledger });
const runId = `fleet-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
await registerRun(db, { id: runId, agent: "bench", bottles: ["dev"], pid: null });
const store = sqlEnforceStore(db);
const plan = { runId, budgets: { claude: { provider: "claude" as const, tokens: 1e15, scope: "global" as const, per: "month" as const } }, timeZone: "UTC", preflight: "off" as const };
const once = async () => {
  const d = await admit(store, plan, { provider: "claude" });
  if (!d.allow) throw new Error("refused");
  await recordUsage(db, [{ runId, provider: "claude", agent: "bench", bottles: ["dev"], chain: ["dev"], totalTokens: 37, inputTokens: 25, outputTokens: 12, at: Date.now() }]);
};
for (let i = 0; i < 5; i++) await once();
console.log("ready");
for await (const _ of console) break;
for (let i = 0; i < n; i++) await once();
await db.destroy();
console.log("done");
