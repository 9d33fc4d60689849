/**
 * A record's ledger sections from real rows, on the ledger's own repository (SQLite here; PostgreSQL with
 * BOTTLE_TEST_LEDGER=postgres): usage per provider, model and format with every token class, count calls
 * apart from requests; every enforcement action; per host requests, bytes, status classes and decisions;
 * denials grouped by host, method, path (no query), decision and reason; and the row bounds, which keep a
 * record describing the same rows after more arrive under the same run id. Another run's rows never count.
 */
import { afterAll, expect, test } from "bun:test";
import { connectLedger, recordAudit, recordUsage, registerRun, runRowBounds, type LedgerDb } from "../../src/ledger/index.ts";
import { ledgerSections } from "../../src/provenance/collect.ts";
import type { AuditRecord } from "../../src/proxy/hooks.ts";
import { ledgerFile } from "../support/enforce-db.ts";

const dbs: LedgerDb[] = [];
afterAll(async () => {
  for (const db of dbs) await db.destroy();
});

const audit = (runId: string, host: string, path: string, status: number, decision: AuditRecord["decision"], reason?: string): AuditRecord => ({
  time: Date.now(),
  runId,
  host,
  method: "POST",
  path,
  status,
  decision,
  ...(reason ? { reason } : {}),
  bytesUp: 100,
  bytesDown: 10,
  durationMs: 5,
});

test("usage, actions and egress of one run, bounded by the rows the record names", async () => {
  const db = connectLedger({ path: ledgerFile() });
  dbs.push(db);
  for (const id of ["r1", "other"]) await registerRun(db, { id, agent: "claude", bottles: ["b"], pid: null });
  const at = Date.now();
  await recordUsage(db, [
    { runId: "r1", provider: "claude", at, model: "m-a", format: "anthropic-messages", inputTokens: 10, outputTokens: 5, cacheCreationTokens: 2, cacheReadTokens: 3, totalTokens: 20 },
    { runId: "r1", provider: "claude", at, model: "m-a", format: "anthropic-messages", inputTokens: 1, outputTokens: 1, totalTokens: 2, estimated: true },
    { runId: "r1", provider: "claude", at, model: "m-a", format: "anthropic-messages", kind: "count", totalTokens: 0 },
    { runId: "r1", provider: "codex", at, model: "m-b", format: "openai-responses", inputTokens: 7, outputTokens: 4, cachedTokens: 3, reasoningTokens: 2, totalTokens: 11 },
    { runId: "other", provider: "claude", at, model: "m-a", totalTokens: 999 },
  ]);
  await recordAudit(db, [
    audit("r1", "api.anthropic.com", "/v1/messages?beta=true", 200, "mitm"),
    audit("r1", "api.anthropic.com", "/v1/messages?beta=true", 402, "refuse", "refused by admission"),
    audit("r1", "evil.example", "/", 403, "deny", "not on the allowlist"),
    audit("r1", "evil.example", "/", 403, "deny", "not on the allowlist"),
    audit("other", "elsewhere.example", "/", 403, "deny", "x"),
  ]);
  await db.insertInto("enforcement_actions").values({ run_id: "r1", kind: "cutoff", trigger: "budget", scope: "run budget (--budget)", provider: "claude", used: 22, limit_tokens: 20, detail: null, created_at: at }).execute();
  const bounds = await runRowBounds(db, "r1");
  const s = await ledgerSections(db, "r1", bounds);
  expect(s.models).toEqual([
    { provider: "claude", model: "m-a", format: "anthropic-messages", requests: 2, countCalls: 1, inputTokens: 11, outputTokens: 6, cacheCreationTokens: 2, cacheReadTokens: 3, cachedTokens: 0, reasoningTokens: 0, totalTokens: 22, estimated: 1, errored: 0 },
    { provider: "codex", model: "m-b", format: "openai-responses", requests: 1, countCalls: 0, inputTokens: 7, outputTokens: 4, cacheCreationTokens: 0, cacheReadTokens: 0, cachedTokens: 3, reasoningTokens: 2, totalTokens: 11, estimated: 0, errored: 0 },
  ]);
  expect(s.usage).toMatchObject({ requests: 3, countCalls: 1, totalTokens: 33 });
  expect(s.enforcement.map((a) => [a.kind, a.trigger, a.used, a.limit])).toEqual([["cutoff", "budget", 22, 20]]);
  expect(s.egress.hosts).toEqual([
    { host: "api.anthropic.com", requests: 2, bytesUp: 200, bytesDown: 20, statuses: { "2xx": 1, "4xx": 1 }, decisions: { mitm: 1, refuse: 1 } },
    { host: "evil.example", requests: 2, bytesUp: 200, bytesDown: 20, statuses: { "4xx": 2 }, decisions: { deny: 2 } },
  ]);
  expect(s.egress.denials).toEqual([
    { host: "api.anthropic.com", method: "POST", path: "/v1/messages", decision: "refuse", status: 402, reason: "refused by admission", count: 1 },
    { host: "evil.example", method: "POST", path: "/", decision: "deny", status: 403, reason: "not on the allowlist", count: 2 },
  ]);
  expect(s.ledger).toMatchObject({ usageEvents: 4, auditRecords: 4, actions: 1 });

  // More rows under the same run (a resumed run): the bounded sections do not change.
  await recordUsage(db, [{ runId: "r1", provider: "claude", at, model: "m-a", totalTokens: 50 }]);
  await recordAudit(db, [audit("r1", "late.example", "/", 403, "deny", "late")]);
  expect(await ledgerSections(db, "r1", bounds)).toEqual(s);
  expect((await ledgerSections(db, "r1", await runRowBounds(db, "r1"))).usage.totalTokens).toBe(83);
});
