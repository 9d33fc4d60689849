/**
 * Metering driven by the proxy's hooks: one Meter per exchange (chosen from the request by selectMeter),
 * fed every response chunk, settled when the response ends or breaks. The settled MeterResult is left in
 * `ctx.state.meter` (where the budget hooks read what an exchange cost) and handed to `onResult` together
 * with the exchange's status and timings, for the ledger to store. Nothing here touches the bytes beyond
 * what the meter itself does (adding and stripping a Chat usage chunk), and nothing here throws.
 */
import type { ProxyHooks, ProxyRequestContext } from "../proxy/hooks.ts";
import { selectMeter, type Meter } from "./index.ts";
import type { MeterResult } from "./types.ts";

/** Where the settled MeterResult of an exchange is left in ctx.state. */
export const METER_STATE_KEY = "meter";
const IMPL = "meter.impl";
const STATUS = "meter.status";
const FIRST_BYTE = "meter.firstByteAt";

export interface MeteredExchange {
  ctx: ProxyRequestContext;
  result: MeterResult;
  /** The upstream's HTTP status; undefined when no response arrived. */
  status?: number;
  /** When the upstream's response headers arrived (ms since epoch). */
  firstByteAt?: number;
  endedAt: number;
}

export type MeteredHandler = (x: MeteredExchange) => void | Promise<void>;

const meterOf = (ctx: ProxyRequestContext) => ctx.state[IMPL] as Meter | undefined;

export function meteringHooks(onResult: MeteredHandler): ProxyHooks {
  const settle = (ctx: ProxyRequestContext, result: MeterResult): void | Promise<void> => {
    ctx.state[METER_STATE_KEY] = result;
    const status = ctx.state[STATUS] as number | undefined;
    const firstByteAt = ctx.state[FIRST_BYTE] as number | undefined;
    return onResult({ ctx, result, ...(status !== undefined ? { status } : {}), ...(firstByteAt !== undefined ? { firstByteAt } : {}), endedAt: Date.now() });
  };
  return {
    onRequest(ctx, body) {
      const m = selectMeter({ ...(ctx.provider ? { provider: ctx.provider } : {}), host: ctx.host, method: ctx.method, path: ctx.path, requestHeaders: ctx.requestHeaders, requestBody: body });
      if (!m) return;
      ctx.state[IMPL] = m;
      const next = m.prepareRequest(body);
      return next !== body ? { body: next } : undefined;
    },
    onResponseStart(ctx, status, headers) {
      const m = meterOf(ctx);
      if (!m) return;
      ctx.state[STATUS] = status;
      ctx.state[FIRST_BYTE] = Date.now();
      m.onResponseStart(status, headers);
    },
    onResponseChunk: (ctx, chunk) => meterOf(ctx)?.push(chunk),
    onResponseEnd(ctx) {
      const m = meterOf(ctx);
      if (m && m.transport === "http") return settle(ctx, m.end());
    },
    onAbort(ctx, reason) {
      const m = meterOf(ctx);
      if (!m) return;
      // A client that hangs up has already had its request sent (the proxy only aborts an upstream call it
      // made); an upstream that could not be reached ("error") never received it.
      if (m.transport === "http") return settle(ctx, m.abort(reason === "client"));
      return Promise.all(m.closeSocket().map((r) => settle(ctx, r))).then(() => undefined);
    },
    onWebSocketMessage(ctx, direction, data) {
      const m = meterOf(ctx);
      if (m) for (const r of m.onWebSocketMessage(direction, data)) void Promise.resolve(settle(ctx, r)).catch(() => undefined);
    },
  };
}
