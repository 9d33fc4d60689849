/**
 * Seeds a ledger for the budget benchmark with the code of the checkout at argv[2] (so a baseline from an
 * older commit can open it): 50 runs, and `rows` claude usage events spread over the current month up to
 * now, so a monthly budget's window holds all of them. One transaction, one prepared insert.
 * argv: checkout-root ledger-file rows
 */
import { Database } from "bun:sqlite";

const [root, file, rowsArg] = process.argv.slice(2) as [string, string, string];
const rows = Number(rowsArg);
const { openLedger, registerRun } = (await import(`${root}/src/ledger/index.ts`)) as typeof import("../../src/ledger/index.ts");
const db = await openLedger({ path: file });
for (let i = 0; i < 50; i++) await registerRun(db, { id: `seed-${i}`, agent: `agent-${i % 5}`, bottles: ["dev"], pid: null });
await db.destroy();
const raw = new Database(file);
const now = new Date();
const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
const span = Math.max(1, Date.now() - 60_000 - monthStart);
const ins = raw.prepare("insert into usage_events (run_id, agent, bottles, chain, provider, format, kind, model, host, method, path, status, input_tokens, output_tokens, total_tokens, created_at) values (?, ?, '[\"dev\"]', '[\"dev\"]', 'claude', 'anthropic-messages', 'usage', 'sim-model', 'api.anthropic.com', 'POST', '/v1/messages', 200, 25, 12, 37, ?)");
raw.exec("begin");
for (let i = 0; i < rows; i++) ins.run(`seed-${i % 50}`, `agent-${i % 5}`, monthStart + Math.floor((i / Math.max(1, rows)) * span));
raw.exec("commit");
raw.exec("pragma wal_checkpoint(TRUNCATE)");
raw.close();
console.log(JSON.stringify({ rows }));
