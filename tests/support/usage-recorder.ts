/**
 * Metering wired to the test ledger: each metered exchange's MeterResult is left in ctx.state (where the
 * budget hooks read it) and its usage is inserted into usage_events, as the ledger's recorder does in the
 * product. Used by the end-to-end enforcement tests.
 */
import type { Kysely } from "kysely";
import type { EnforceTables } from "../../src/enforce/sql-store.ts";
import { METER_STATE_KEY } from "../../src/enforce/hooks.ts";
import { selectMeter, type Meter } from "../../src/metering/index.ts";
import type { MeterResult } from "../../src/metering/types.ts";
import type { ProxyHooks, ProxyRequestContext } from "../../src/proxy/hooks.ts";

export function usageRecorder(db: Kysely<EnforceTables>, results: MeterResult[] = []): ProxyHooks {
  const meter = (ctx: ProxyRequestContext) => ctx.state.meterImpl as Meter | undefined;
  const record = async (ctx: ProxyRequestContext, r: MeterResult) => {
    ctx.state[METER_STATE_KEY] = r;
    results.push(r);
    if (r.kind === "usage" && ctx.provider) {
      await db.insertInto("usage_events").values({ run_id: ctx.runId, provider: ctx.provider, total_tokens: r.usage.totalTokens, created_at: Date.now() }).execute();
    }
  };
  return {
    onRequest(ctx, body) {
      const m = selectMeter({ ...(ctx.provider ? { provider: ctx.provider } : {}), host: ctx.host, method: ctx.method, path: ctx.path, requestHeaders: ctx.requestHeaders, requestBody: body });
      if (!m) return;
      ctx.state.meterImpl = m;
      const next = m.prepareRequest(body);
      return next !== body ? { body: next } : undefined;
    },
    onResponseStart: (ctx, status, headers) => meter(ctx)?.onResponseStart(status, headers),
    onResponseChunk: (ctx, chunk) => meter(ctx)?.push(chunk),
    async onResponseEnd(ctx) {
      const m = meter(ctx);
      if (m) await record(ctx, m.end());
    },
    async onAbort(ctx) {
      const m = meter(ctx);
      if (m) await record(ctx, m.abort());
    },
  };
}
