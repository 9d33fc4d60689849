/**
 * The proxy side of the ledger benchmark: bottle's proxy with two runs that differ only in the ledger.
 * `off` meters every exchange with the same metering hooks and discards the result; `on` uses ledgerHooks,
 * which also records every usage row and audit record in a real ledger file. Prints the two proxy URLs as
 * one JSON line, then serves until killed; on SIGTERM it prints how many rows the `on` run recorded.
 * argv: upstream-ca-dir bottle-ca-dir upstream-port ledger-file
 */
import { loadOrCreateCa } from "../../src/ca/authority.ts";
import { ledgerHooks, openLedger, registerRun } from "../../src/ledger/index.ts";
import { meteringHooks } from "../../src/metering/proxy-hooks.ts";
import { createProxy } from "../../src/proxy/proxy.ts";

const [upstreamCaDir, bottleCaDir, upstreamPort, ledger] = process.argv.slice(2) as [string, string, string, string];
const db = await openLedger({ path: ledger });
await registerRun(db, { id: "bench-on", agent: "bench", bottles: ["bench"] });
const proxy = createProxy({ caDir: bottleCaDir, upstreamCa: [loadOrCreateCa(upstreamCaDir).certPem] });
const routes = [{ host: "api.anthropic.com", upstream: `https://127.0.0.1:${upstreamPort}` }];
const off = await proxy.openRun({ runId: "bench-off", routes, log: "full", hooks: meteringHooks(() => undefined) });
const hooks = ledgerHooks(db, { id: "bench-on", agent: "bench", bottles: ["bench"] });
const on = await proxy.openRun({ runId: "bench-on", routes, log: "full", hooks });
console.log(JSON.stringify({ off: off.proxyUrl, on: on.proxyUrl }));
process.once("SIGTERM", async () => {
  await hooks.close();
  const r = await db.selectFrom("usage_events").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
  console.log(JSON.stringify({ rows: Number(r.n), busyRetries: hooks.writer.busyRetries, failed: hooks.writer.failed }));
  process.exit(0);
});
