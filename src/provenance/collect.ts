/**
 * The ledger sections of a record, derived from the run's rows: usage per model and token class, every
 * enforcement action, and egress per host (requests, bytes, status classes, decisions) with every denied or
 * refused attempt grouped by host, method, path and reason. The same function makes a record and checks
 * one (`report verify` derives the sections again from the rows the record names and compares).
 */
import { runActions, runAudit, runModelUsage, type EgressAuditRow, type LedgerDb, type RowBounds } from "../ledger/index.ts";
import type { DenialFacts, HostFacts, LedgerSections, ModelUsage } from "./record.ts";

const DENIED = new Set(["deny", "refuse"]);

export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : "000";
}

function bump(m: Record<string, number>, k: string): void {
  m[k] = (m[k] ?? 0) + 1;
}

/** Per host and per denial, from audit rows. Pure. */
export function egressOf(rows: readonly EgressAuditRow[]): LedgerSections["egress"] {
  const hosts = new Map<string, HostFacts>();
  const denials = new Map<string, DenialFacts>();
  for (const r of rows) {
    const h = hosts.get(r.host) ?? { host: r.host, requests: 0, bytesUp: 0, bytesDown: 0, statuses: {}, decisions: {} };
    h.requests++;
    h.bytesUp += r.bytes_up;
    h.bytesDown += r.bytes_down;
    bump(h.statuses, statusClass(r.status));
    bump(h.decisions, r.decision);
    hosts.set(r.host, h);
    if (!DENIED.has(r.decision)) continue;
    const path = r.path.split("?")[0]!;
    const key = JSON.stringify([r.host, r.method, path, r.decision, r.status, r.reason]);
    const d = denials.get(key) ?? { host: r.host, method: r.method, path, decision: r.decision, status: r.status, reason: r.reason, count: 0 };
    d.count++;
    denials.set(key, d);
  }
  const byHost = (a: { host: string }, b: { host: string }) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0);
  return { hosts: [...hosts.values()].sort(byHost), denials: [...denials.values()] };
}

export function usageTotal(models: readonly ModelUsage[]): LedgerSections["usage"] {
  const t = { requests: 0, countCalls: 0, inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0, cachedTokens: 0, reasoningTokens: 0, totalTokens: 0, estimated: 0, errored: 0 };
  for (const m of models) for (const k of Object.keys(t) as Array<keyof typeof t>) t[k] += m[k];
  return t;
}

export async function ledgerSections(db: LedgerDb, runId: string, b: RowBounds): Promise<LedgerSections> {
  const models = await runModelUsage(db, runId, b.usageEvents);
  const actions = await runActions(db, runId, b.actions);
  const audit = await runAudit(db, runId, b.audit);
  const usageEvents = models.reduce((n, m) => n + m.requests + m.countCalls, 0);
  return {
    models,
    usage: usageTotal(models),
    enforcement: actions.map((a) => ({ id: a.id, at: new Date(a.at).toISOString(), kind: a.kind, trigger: a.trigger, scope: a.scope, provider: a.provider, used: a.used, limit: a.limit, detail: a.detail })),
    egress: egressOf(audit),
    ledger: { usageEventsUpTo: b.usageEvents, auditUpTo: b.audit, actionsUpTo: b.actions, usageEvents, auditRecords: audit.length, actions: actions.length },
  };
}
