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
 * Compose it before the budget hooks: its onResponseEnd resolves once the usage row is committed, so the
 * settlement that follows counts it. Writes happen off the streaming path (see writer.ts).
 */
import { METER_STATE_KEY, meteringHooks } from "../metering/proxy-hooks.ts";
import type { AuditRecord, ProxyHooks } from "../proxy/hooks.ts";
import type { LedgerDb } from "./database.ts";
import { usageEventOf } from "./usage.ts";
import { LedgerWriter } from "./writer.ts";

export { METER_STATE_KEY };

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
  /** Flushes, then closes the writer's own connection (when the run is over). */
  close(): Promise<void>;
  readonly writer: LedgerWriter;
}

const BLOCKING = new Set<AuditRecord["decision"]>(["deny", "refuse", "error"]);

export function ledgerHooks(db: LedgerDb, run: LedgerRun, o: { writer?: LedgerWriter } = {}): LedgerHooks {
  const writer = o.writer ?? new LedgerWriter(db);
  const metering = meteringHooks((x) => {
    const event = usageEventOf(x.result, {
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
    // Failures are logged by the writer; the exchange itself is already over.
    return writer.usage(event).catch(() => undefined);
  });
  return {
    ...metering,
    onAudit(record, level) {
      if (level === "blocks" && !BLOCKING.has(record.decision)) return;
      writer.audit(record);
    },
    flush: () => writer.flush(),
    close: () => writer.close(),
    writer,
  };
}
