/**
 * Proxy hooks that meter every exchange with the real metering module and collect the results, for tests
 * that assert an agent's usage was metered without needing the ledger.
 */
import { selectMeter, type Meter } from "../../src/metering/index.ts";
import type { MeterResult } from "../../src/metering/types.ts";
import type { ProxyHooks } from "../../src/proxy/hooks.ts";

export function collectingMeterHooks(results: (MeterResult & { host: string; path: string })[]): ProxyHooks {
  const meter = (state: Record<string, unknown>) => state.meter as Meter | undefined;
  return {
    onRequest(ctx, body) {
      const m = selectMeter({ ...(ctx.provider ? { provider: ctx.provider } : {}), host: ctx.host, method: ctx.method, path: ctx.path, requestHeaders: ctx.requestHeaders, requestBody: body });
      if (!m) return;
      ctx.state.meter = m;
      return { body: m.prepareRequest(body) };
    },
    onResponseStart: (ctx, status, headers) => meter(ctx.state)?.onResponseStart(status, headers),
    onResponseChunk: (ctx, chunk) => meter(ctx.state)?.push(chunk),
    onResponseEnd(ctx) {
      const m = meter(ctx.state);
      if (m) results.push({ ...m.end(), host: ctx.host, path: ctx.path });
    },
    onAbort(ctx) {
      const m = meter(ctx.state);
      if (m) results.push({ ...m.abort(), host: ctx.host, path: ctx.path });
    },
  };
}
