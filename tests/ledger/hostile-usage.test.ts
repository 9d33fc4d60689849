/**
 * An upstream that reports impossible usage (`input_tokens: 1e308`), through the real `bottle proxy` CLI
 * and a real client: each row is stored as an integer estimate from the request, marked estimated, the
 * anomaly (with what the upstream sent) is in the run's audit log, and the totals stay numbers: two such
 * rows used to sum to Infinity, and `bottle budget usage` printed null.
 */
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { auditOf, checkTotals, openLedger } from "../../src/ledger/index.ts";
import { startSimulator } from "../../src/simulator/server.ts";
import { MAIN, sendMessage, startBottleProxy } from "../support/bottle-proxy.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await Promise.resolve(f()).catch(() => undefined);
});

test("input_tokens 1e308: stored as an estimate from the request, the anomaly audited, sums stay finite", async () => {
  const sim = startSimulator({ hostname: "127.0.0.1", usage: { inputTokens: 1e308, outputTokens: 12 } });
  cleanups.push(() => sim.close());
  const home = mkdtempSync(join(process.env.TMPDIR!, "hostile-"));
  const p = await startBottleProxy(home, ["--budget", "1000000", "--upstream", sim.url]);
  cleanups.push(() => p.stop("SIGKILL"));
  for (let i = 0; i < 2; i++) expect((await sendMessage(p)).complete).toBe(true);
  expect(await p.stop()).toBe(0);

  const db = await openLedger({ path: join(home, "bottle.db") });
  try {
    const rows = await db.selectFrom("usage_events").select(["input_tokens", "output_tokens", "total_tokens", "estimated"]).where("run_id", "=", p.runId).execute();
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(Number.isInteger(r.total_tokens)).toBe(true);
      expect(r.estimated).toBe(1);
      // The request's own estimate: its (short) input counted locally plus its max_tokens of 50.
      expect(r.output_tokens).toBe(50);
      expect(r.total_tokens).toBe(r.input_tokens + 50);
      expect(r.total_tokens).toBeLessThan(200);
    }
    const sum = await db.selectFrom("usage_events").select((eb) => eb.fn.sum<number>("total_tokens").as("n")).executeTakeFirstOrThrow();
    expect(Number.isFinite(Number(sum.n))).toBe(true);
    const anomalies = (await auditOf(db, p.runId)).filter((a) => a.reason?.startsWith("usage anomaly"));
    expect(anomalies).toHaveLength(2);
    expect(anomalies[0]!.reason).toContain("input_tokens=1e+308");
    expect((await checkTotals(db)).mismatches).toEqual([]);
  } finally {
    await db.destroy();
  }
  const usage = Bun.spawn(["bun", MAIN, "budget", "usage", "--json"], { env: { ...process.env, BOTTLE_HOME: home, NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" });
  const report = JSON.parse(await new Response(usage.stdout).text()) as { rows: Array<{ totalTokens: unknown }> };
  expect(await usage.exited).toBe(0);
  expect(typeof report.rows[0]!.totalTokens).toBe("number");
}, 60_000);
