/**
 * Proxy hooks that meter every exchange with the real metering module and collect the results, for tests
 * that assert an agent's usage was metered without needing the ledger.
 */
import { meteringHooks } from "../../src/metering/proxy-hooks.ts";
import type { MeterResult } from "../../src/metering/types.ts";
import type { ProxyHooks } from "../../src/proxy/hooks.ts";

export function collectingMeterHooks(results: (MeterResult & { host: string; path: string })[]): ProxyHooks {
  return meteringHooks(({ ctx, result }) => void results.push({ ...result, host: ctx.host, path: ctx.path }));
}
