/**
 * Metered "requests" the way the proxy hooks make them — admit (reserving in estimate mode), then charge
 * the actual usage and release the reservation in one commit, then settle — `count` of them, at most `inflight` at a time. A request is counted in
 * flight from before its admission until after its settlement, so `maxInFlight` is never below the true
 * concurrency the bounds in docs/budgets.md speak of.
 */
import type { Kysely } from "kysely";
import { admit, settle, type RunBudgetPlan } from "../../src/enforce/admission.ts";
import type { EnforceTables } from "../../src/enforce/sql-store.ts";
import type { EnforceStore } from "../../src/enforce/store.ts";
import { LedgerWriter, type LedgerDb } from "../../src/ledger/index.ts";

/**
 * The charge as the proxy makes it: the usage row, its running totals and the release of the request's
 * reservation in one commit (the ledger writer), so a request never counts twice (charged and still held)
 * while another is admitted. Resolves once committed.
 */
function charged(writer: LedgerWriter, runId: string, tokens: number, reservationId: string | undefined): Promise<void> {
  return writer.usage({ runId, provider: "claude", totalTokens: tokens, at: Date.now() }, reservationId);
}

export interface PoolResult {
  admitted: number;
  maxInFlight: number;
}

/**
 * `preflight: clamp`: each request counts `input` tokens and asks for `wanted` output; the "provider" writes
 * `natural` output tokens, or the granted cap when that is lower (a real API never exceeds max_tokens), so
 * its usage is input + min(natural, granted). A retryable refusal (room held by requests in flight) is
 * retried after a short pause, as the SDKs do.
 */
export interface ClampLoad {
  input: number;
  wanted: number;
  natural: number;
}

export interface ClampResult extends PoolResult {
  /** Requests finally refused (what is left cannot pay for input + the minimum output). */
  refused: number;
  /** Admissions whose granted cap was below the natural output (the clamp did bite). */
  clamped: number;
  /** Retryable refusals seen. */
  retried: number;
}

export async function runClampRequests(o: { db: Kysely<EnforceTables>; store: EnforceStore; plan: RunBudgetPlan; count: number; inflight: number; load: ClampLoad }): Promise<ClampResult> {
  let next = 0;
  let inFlight = 0;
  const r: ClampResult = { admitted: 0, maxInFlight: 0, refused: 0, clamped: 0, retried: 0 };
  const writer = new LedgerWriter(o.db as unknown as LedgerDb);
  const worker = async () => {
    while (next < o.count) {
      next++;
      r.maxInFlight = Math.max(r.maxInFlight, ++inFlight);
      for (;;) {
        const d = await admit(o.store, o.plan, { provider: "claude", clamp: { input: o.load.input, wanted: o.load.wanted, adjustable: true } });
        if (d.allow) {
          r.admitted++;
          const output = Math.min(o.load.natural, d.output!);
          if (d.output! < o.load.natural) r.clamped++;
          await Bun.sleep(Math.random() * 5);
          await charged(writer, o.plan.runId, o.load.input + output, d.reservationId);
          await settle(o.store, o.plan, { provider: "claude", charged: o.load.input + output });
          break;
        }
        if (d.kind !== "held") {
          r.refused++;
          break;
        }
        r.retried++;
        await Bun.sleep(1 + Math.random() * 4);
      }
      inFlight--;
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.inflight, o.count) }, worker));
  await writer.close();
  return r;
}

export async function runRequests(o: { db: Kysely<EnforceTables>; store: EnforceStore; plan: RunBudgetPlan; count: number; inflight: number; usage: number; reserve?: number }): Promise<PoolResult> {
  let next = 0;
  let admitted = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const writer = new LedgerWriter(o.db as unknown as LedgerDb);
  const worker = async () => {
    while (next < o.count) {
      next++;
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      const d = await admit(o.store, o.plan, { provider: "claude", ...(o.reserve !== undefined ? { reserve: o.reserve } : {}) });
      if (d.allow) {
        admitted++;
        await Bun.sleep(Math.random() * 5);
        await charged(writer, o.plan.runId, o.usage, d.reservationId);
        await settle(o.store, o.plan, { provider: "claude", charged: o.usage });
      }
      inFlight--;
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.inflight, o.count) }, worker));
  await writer.close();
  return { admitted, maxInFlight };
}
