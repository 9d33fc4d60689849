/**
 * One ledger-writing process for the ledger benchmark. Modes: `tx` writes each event in its own
 * BEGIN IMMEDIATE transaction (recordUsage), the worst case for a busy proxy; `queued` hands every event to
 * the LedgerWriter the proxy hooks use, which batches what is queued into one transaction. Waits for "go" on
 * stdin (so several processes start together), then prints {events, ms} as JSON.
 * argv: ledger runId count tx|queued
 */
import { LedgerWriter, openLedger, recordUsage, registerRun, type UsageEvent } from "../../src/ledger/index.ts";

const [file, runId, count, mode] = process.argv.slice(2) as [string, string, string, "tx" | "queued"];
const db = await openLedger({ path: file });
await registerRun(db, { id: runId, agent: "bench", bottles: ["bench"] });
const event = (i: number): UsageEvent => ({
  runId, agent: "bench", bottles: ["bench"], provider: "claude", format: "anthropic-messages", model: "claude-bench", host: "api.anthropic.com",
  method: "POST", path: "/v1/messages", status: 200, inputTokens: 1000 + i, outputTokens: 200, cacheReadTokens: 500, totalTokens: 1700 + i,
  requestId: `msg_${runId}_${i}`, exchangeId: `${runId}-${i}`, startedAt: Date.now(), firstByteMs: 3, durationMs: 40, at: Date.now(),
});
process.stdout.write("ready\n");
for await (const _ of console) break;
const n = Number(count);
const t0 = performance.now();
if (mode === "tx") {
  for (let i = 0; i < n; i++) await recordUsage(db, [event(i)]);
} else {
  const w = new LedgerWriter(db);
  await Promise.all(Array.from({ length: n }, (_, i) => w.usage(event(i))));
  await w.close();
}
const ms = performance.now() - t0;
await db.destroy();
process.stdout.write(`${JSON.stringify({ events: n, ms })}\n`);
