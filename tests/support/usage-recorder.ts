/**
 * The product's ledger hooks (metering + usage rows + audit) on a test ledger, collecting every MeterResult
 * as well so a test can compare what was metered with what the ledger holds. Used by the end-to-end
 * enforcement tests; compose it before the budget hooks, as the launcher does.
 */
import type { Kysely } from "kysely";
import type { EnforceTables } from "../../src/enforce/sql-store.ts";
import { ledgerHooks, METER_STATE_KEY, type LedgerDb } from "../../src/ledger/index.ts";
import type { MeterResult } from "../../src/metering/types.ts";
import type { ProxyHooks } from "../../src/proxy/hooks.ts";

export function usageRecorder(db: Kysely<EnforceTables>, results: MeterResult[] = []): ProxyHooks {
  const ledger = ledgerHooks(db as unknown as LedgerDb, { id: "" });
  return {
    ...ledger,
    async onResponseEnd(ctx) {
      await ledger.onResponseEnd?.(ctx);
      const r = ctx.state[METER_STATE_KEY] as MeterResult | undefined;
      if (r) results.push(r);
    },
    async onAbort(ctx, reason, error) {
      await ledger.onAbort?.(ctx, reason, error);
      const r = ctx.state[METER_STATE_KEY] as MeterResult | undefined;
      if (r) results.push(r);
    },
  };
}
