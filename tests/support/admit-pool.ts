/**
 * Metered "requests" the way the proxy hooks make them — admit (reserving in estimate mode), then charge
 * the actual usage, then settle — `count` of them, at most `inflight` at a time. A request is counted in
 * flight from before its admission until after its settlement, so `maxInFlight` is never below the true
 * concurrency the bounds in docs/budgets.md speak of.
 */
import type { Kysely } from "kysely";
import { admit, settle, type RunBudgetPlan } from "../../src/enforce/admission.ts";
import type { EnforceTables } from "../../src/enforce/sql-store.ts";
import type { EnforceStore } from "../../src/enforce/store.ts";
import { charge } from "./enforce-db.ts";

export interface PoolResult {
  admitted: number;
  maxInFlight: number;
}

export async function runRequests(o: { db: Kysely<EnforceTables>; store: EnforceStore; plan: RunBudgetPlan; count: number; inflight: number; usage: number; reserve?: number }): Promise<PoolResult> {
  let next = 0;
  let admitted = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const worker = async () => {
    while (next < o.count) {
      next++;
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      const d = await admit(o.store, o.plan, { provider: "claude", ...(o.reserve !== undefined ? { reserve: o.reserve } : {}) });
      if (d.allow) {
        admitted++;
        await Bun.sleep(Math.random() * 5);
        await charge(o.db, o.plan.runId, "claude", o.usage);
        await settle(o.store, o.plan, { provider: "claude", ...(d.reservationId ? { reservationId: d.reservationId } : {}), charged: o.usage });
      }
      inFlight--;
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.inflight, o.count) }, worker));
  return { admitted, maxInFlight };
}
