/**
 * Admission alone, in process, with the code of the checkout at argv[2]: the store `bottle run` and
 * `bottle proxy` use (sqlEnforceStore over the ledger) and a global monthly claude budget, pre-flight off
 * and estimate. Times `n` admissions (plus settlement for estimate, which releases the reservation) after
 * a warm-up, and prints the median and p99 in microseconds as JSON.
 * argv: checkout-root ledger-file n
 */
const [root, file, nArg] = process.argv.slice(2) as [string, string, string];
export {};
const n = Number(nArg);
const { openLedger, registerRun } = (await import(`${root}/src/ledger/index.ts`)) as typeof import("../../src/ledger/index.ts");
const { sqlEnforceStore } = (await import(`${root}/src/enforce/sql-store.ts`)) as typeof import("../../src/enforce/sql-store.ts");
const { admit, settle } = (await import(`${root}/src/enforce/admission.ts`)) as typeof import("../../src/enforce/admission.ts");
const db = await openLedger({ path: file });
const runId = `admit-${process.pid}`;
await registerRun(db, { id: runId, agent: "bench", bottles: ["dev"], pid: null });
const store = sqlEnforceStore(db);
const budget = { provider: "claude" as const, tokens: 1e12, scope: "global" as const, per: "month" as const };
const out: Record<string, { p50: number; p99: number }> = {};
for (const preflight of ["off", "estimate"] as const) {
  const plan = { runId, budgets: { claude: budget }, timeZone: "UTC", preflight };
  const once = async () => {
    const d = await admit(store, plan, { provider: "claude", ...(preflight === "estimate" ? { reserve: 100 } : {}) });
    if (!d.allow) throw new Error("refused");
    if (d.reservationId) await settle(store, plan, { provider: "claude", reservationId: d.reservationId, charged: 0 });
  };
  for (let i = 0; i < 5; i++) await once();
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await once();
    t.push((performance.now() - t0) * 1000);
  }
  t.sort((a, b) => a - b);
  out[preflight] = { p50: t[Math.floor(t.length / 2)]!, p99: t[Math.min(t.length - 1, Math.floor(t.length * 0.99))]! };
}
await db.destroy();
console.log(JSON.stringify(out));
