/**
 * The ledger's proxy hooks for one run: meter every exchange and record its usage (attributed to the run,
 * its agent and its bottles) and every audit record the run's `egress.log` level keeps. This is the one
 * entry point a launcher needs:
 *
 *   await registerRun(db, { id, agent, bottles, chain, ... });
 *   const ledger = ledgerHooks(db, { id, agent, bottles, chain, provider });
 *   proxy.openRun({ runId: id, hooks: composeHooks(ledger, enforcement.hooks), ... });
 *   …
 *   await ledger.close(); await endRun(db, id, { exitCode });
 *
 * Compose it before the budget hooks: its onResponseEnd resolves once the usage row is committed (with the
 * release of the exchange's reservation), so the settlement that follows counts it, and the proxy ends the
 * client's stream only after that. Writes happen off the event loop's critical path (see writer.ts).
 */
import { METER_STATE_KEY, meteringHooks } from "../metering/proxy-hooks.ts";
import type { AuditRecord, ProxyHooks, ProxyRequestContext } from "../proxy/hooks.ts";
import type { LedgerDb } from "./database.ts";
import { log } from "../log.ts";
import { requestEstimate, saneResult } from "./sane-usage.ts";
import { usageEventsOf } from "./usage.ts";
import { LedgerWriter, type WriterProblem } from "./writer.ts";

export { METER_STATE_KEY };

/**
 * Where budget admission leaves the id of the reservation an exchange holds. The usage row's transaction
 * releases it (charge and release are one commit) and sets RESERVATION_SETTLED_KEY.
 */
export const RESERVATION_STATE_KEY = "budget.reservation";
export const RESERVATION_SETTLED_KEY = "budget.reservation.settled";

export interface LedgerRun {
  id: string;
  agent?: string;
  bottles?: readonly string[];
  chain?: readonly string[];
  /** Attributes metered exchanges on hosts bottle does not know (gateways). */
  provider?: string;
}

export interface LedgerHooks extends ProxyHooks {
  /** Resolves when every row queued so far is in the ledger (call before endRun). */
  flush(): Promise<void>;
  /** Why usage cannot be recorded right now (admission refuses while this is set). */
  problem(): WriterProblem | undefined;
  /** Flushes, then closes the writer's own connection (when the run is over). */
  close(): Promise<void>;
  readonly writer: LedgerWriter;
}

const UNMETERED_STATUS = "ledger.unmeteredStatus";
/** The request body, kept (by reference) for an estimate should the upstream report impossible usage. */
const REQUEST_BODY = "ledger.requestBody";
const BLOCKING = new Set<AuditRecord["decision"]>(["deny", "refuse", "error", "unmetered"]);

export function ledgerHooks(db: LedgerDb, run: LedgerRun, o: { writer?: LedgerWriter } = {}): LedgerHooks {
  const writer = o.writer ?? new LedgerWriter(db);
  const metering = meteringHooks(async (x) => {
    const checked = await saneResult(x.result, () => requestEstimate(x.ctx.method, x.ctx.path, x.ctx.state[REQUEST_BODY] as Uint8Array | undefined));
    if (checked.anomalies.length > 0) {
      const reason = `usage anomaly: the upstream reported ${checked.anomalies.join(", ")}; stored an estimate from the request instead (${checked.result.usage.totalTokens} tokens)`;
      log.warn(`ledger: ${x.ctx.method} ${x.ctx.host}${x.ctx.path.split("?")[0]}: ${reason}`);
      writer.audit({ time: x.ctx.startedAt, runId: x.ctx.runId, host: x.ctx.host, method: x.ctx.method, path: x.ctx.path, status: x.status ?? 0, decision: "error", reason, bytesUp: 0, bytesDown: 0, durationMs: Math.max(0, x.endedAt - x.ctx.startedAt) });
    }
    const events = usageEventsOf(checked.result, {
      runId: x.ctx.runId,
      provider: x.ctx.provider ?? run.provider ?? "unknown",
      ...(run.agent !== undefined ? { agent: run.agent } : {}),
      ...(run.bottles ? { bottles: run.bottles } : {}),
      ...(run.chain ? { chain: run.chain } : {}),
      host: x.ctx.host,
      method: x.ctx.method,
      path: x.ctx.path,
      ...(x.status !== undefined ? { status: x.status } : {}),
      ...(x.firstByteAt !== undefined ? { firstByteAt: x.firstByteAt } : {}),
      exchangeId: x.ctx.id,
      startedAt: x.ctx.startedAt,
      endedAt: x.endedAt,
    });
    const reservationId = events.length > 0 ? (x.ctx.state[RESERVATION_STATE_KEY] as string | undefined) : undefined;
    // Charged (and the reservation released, with the first row) before the exchange ends. A failure is
    // logged by the writer, which keeps the rows and makes admission refuse until they are written.
    return Promise.all(events.map((e, i) => writer.usage(e, i === 0 ? reservationId : undefined))).then(
      () => {
        if (reservationId) x.ctx.state[RESERVATION_SETTLED_KEY] = true;
      },
      () => {
        // The writer kept the rows and will release the reservation when it writes them.
        if (reservationId) x.ctx.state[RESERVATION_SETTLED_KEY] = "pending";
      },
    );
  });
  /** A path the route opted out of metering: one zero-token `unmetered` row, so reports show it. */
  const unmetered = (ctx: ProxyRequestContext, aborted: boolean): Promise<void> | void => {
    if (ctx.audit?.decision !== "unmetered") return;
    const status = ctx.state[UNMETERED_STATUS] as number | undefined;
    const endedAt = Date.now();
    return writer
      .usage({
        runId: ctx.runId,
        provider: ctx.provider ?? run.provider ?? "unknown",
        ...(run.agent !== undefined ? { agent: run.agent } : {}),
        ...(run.bottles ? { bottles: run.bottles } : {}),
        ...(run.chain ? { chain: run.chain } : {}),
        at: endedAt,
        kind: "unmetered",
        totalTokens: 0,
        host: ctx.host,
        method: ctx.method,
        path: ctx.path,
        ...(status !== undefined ? { status } : {}),
        errored: aborted || status === undefined || status >= 400,
        exchangeId: ctx.id,
        startedAt: ctx.startedAt,
        durationMs: Math.max(0, endedAt - ctx.startedAt),
      })
      .catch(() => undefined);
  };
  return {
    ...metering,
    onRequest(ctx, body) {
      ctx.state[REQUEST_BODY] = body;
      return metering.onRequest?.(ctx, body);
    },
    onResponseStart(ctx, status, headers) {
      if (ctx.audit?.decision === "unmetered") ctx.state[UNMETERED_STATUS] = status;
      metering.onResponseStart?.(ctx, status, headers);
    },
    async onResponseEnd(ctx) {
      await metering.onResponseEnd?.(ctx);
      await unmetered(ctx, false);
    },
    async onAbort(ctx, reason, error) {
      await metering.onAbort?.(ctx, reason, error);
      await unmetered(ctx, true);
    },
    onAudit(record, level) {
      if (level === "blocks" && !BLOCKING.has(record.decision)) return;
      writer.audit(record);
    },
    flush: () => writer.flush(),
    problem: () => writer.problem,
    close: () => writer.close(),
    writer,
  };
}
