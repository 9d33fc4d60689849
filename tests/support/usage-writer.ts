/**
 * One of several processes writing usage to a shared ledger file, each event in its own atomic
 * transaction, as busy proxies do. Opens (and so migrates) the ledger only after "go" arrives on stdin,
 * so every process races for a brand-new file. Prints {written, busy, errors} as JSON.
 * argv: ledger runId count
 * Event i (1-based) carries input i, output 2i, cache read 3i: sums are known exactly.
 */
import { openLedger, recordUsage, registerRun } from "../../src/ledger/index.ts";

const [file, runId, count] = process.argv.slice(2) as [string, string, string];
process.stdout.write("ready\n");
for await (const _ of console) break;

const db = await openLedger({ path: file });
await registerRun(db, { id: runId, agent: "writer", bottles: ["load"] });
let written = 0;
let busy = 0;
const errors: string[] = [];
for (let i = 1; i <= Number(count); i++) {
  try {
    await recordUsage(db, [{ runId, agent: "writer", provider: "claude", model: "m", inputTokens: i, outputTokens: 2 * i, cacheReadTokens: 3 * i, totalTokens: 6 * i, at: Date.now() }]);
    written++;
  } catch (e) {
    if (/BUSY|LOCKED/.test(String((e as { code?: unknown }).code ?? e))) busy++;
    else errors.push(String(e));
  }
}
await db.destroy();
process.stdout.write(`${JSON.stringify({ written, busy, errors })}\n`);
