/**
 * A ledger writer that spends most of its life inside open transactions, so a test can SIGKILL it
 * mid-transaction. Batch b (1-based) inserts `size` usage rows one statement at a time with a pause between
 * them, inside one BEGIN IMMEDIATE; "begin b" is printed when the batch starts and "commit b" once it is
 * committed. argv: ledger runId size
 */
import { immediate, insertUsage, openLedger, registerRun } from "../../src/ledger/index.ts";

const [file, runId, size] = process.argv.slice(2) as [string, string, string];
const db = await openLedger({ path: file });
await registerRun(db, { id: runId, agent: "victim" });
for (let b = 1; ; b++) {
  process.stdout.write(`begin ${b}\n`);
  await immediate(db, async (conn) => {
    for (let i = 0; i < Number(size); i++) {
      await insertUsage(conn, [{ runId, provider: "claude", requestId: `b${b}`, inputTokens: b, outputTokens: i, totalTokens: b + i, at: Date.now() }]);
      await Bun.sleep(3);
    }
  });
  process.stdout.write(`commit ${b}\n`);
}
