/**
 * Another process's commit to a shared ledger, for tests of what one process caches about the ledger:
 * charges usage to a run, or writes a reset marker for a scope, then exits.
 * argv: ledger charge <runId> <provider> <tokens> | ledger reset <scope> <key> <provider>
 */
import { sqlEnforceStore } from "../../src/enforce/sql-store.ts";
import { openLedger, recordUsage } from "../../src/ledger/index.ts";
import type { BudgetScope } from "../../src/budget/precedence.ts";
import type { ProviderName } from "../../src/manifest/types.ts";

const [file, what, a, b, c] = process.argv.slice(2) as [string, string, string, string, string];
const db = await openLedger({ path: file });
if (what === "charge") await recordUsage(db, [{ runId: a, provider: b, totalTokens: Number(c), at: Date.now() }]);
else await sqlEnforceStore(db).transaction((tx) => tx.addReset({ scope: a as BudgetScope, key: b }, c as ProviderName, Date.now()));
await db.destroy();
