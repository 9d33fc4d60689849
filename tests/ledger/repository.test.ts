/**
 * The ledger's repository functions on a real file: runs through their states, MeterResults mapped onto
 * the token columns (Anthropic cache reads and OpenAI cached input kept apart; count calls carry no usage),
 * all-or-nothing batches, the off-path writer, and the usage report's grouping, ranges and exact totals.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { sql } from "kysely";
import { LedgerError } from "../../src/errors.ts";
import { endRun, getRun, LedgerWriter, listRuns, openLedger, recordUsage, registerRun, setRunState, usageEventOf, usageReport, type LedgerDb, type UsageEvent } from "../../src/ledger/index.ts";
import type { MeterResult } from "../../src/metering/types.ts";
import { ledgerFile } from "../support/enforce-db.ts";

const usage = (o: Partial<MeterResult["usage"]>): MeterResult["usage"] => ({ inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, reasoningTokens: 0, totalTokens: 0, ...o });

describe("runs", () => {
  test("register, freeze, resume, end", async () => {
    const db = await openLedger({ path: ledgerFile() });
    await registerRun(db, { id: "r1", agent: "coder", provider: "claude", bottles: ["web"], chain: ["base", "web"], color: "cyan", backend: "sandbox", startedAt: 1000 });
    expect(await getRun(db, "r1")).toMatchObject({ id: "r1", label: "coder", color: "cyan", agent: "coder", bottles: ["web"], chain: ["base", "web"], state: "running", pid: process.pid, startedAt: 1000, endedAt: null });
    const dup = await registerRun(db, { id: "r1", agent: "coder" }).catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(LedgerError);
    expect((dup as Error).message).toBe("run r1 is already in the ledger");
    expect(await setRunState(db, "r1", "frozen", null)).toBe(true);
    expect((await getRun(db, "r1"))?.state).toBe("frozen");
    expect(await setRunState(db, "r1", "running", 4242)).toBe(true);
    expect(await getRun(db, "r1")).toMatchObject({ state: "running", pid: 4242 });
    expect(await endRun(db, "r1", { exitCode: 75, stopReason: "budget", at: 9000 })).toBe(true);
    expect(await getRun(db, "r1")).toMatchObject({ state: "ended", exitCode: 75, stopReason: "budget", endedAt: 9000 });
    expect(await endRun(db, "nope")).toBe(false);
    await registerRun(db, { id: "r2", agent: "", label: "proxy", startedAt: 2000 });
    expect((await listRuns(db)).map((r) => r.id)).toEqual(["r2", "r1"]);
    expect((await listRuns(db, { state: "running" })).map((r) => r.id)).toEqual(["r2"]);
    await db.destroy();
  });
});

describe("usage rows", () => {
  const facts = { runId: "r", provider: "claude", host: "api.anthropic.com", method: "POST", path: "/v1/messages", status: 200, startedAt: 100, firstByteAt: 130, endedAt: 400 };

  test("Anthropic cache reads and OpenAI cached input go to their own columns", () => {
    const a = usageEventOf({ format: "anthropic-messages", kind: "usage", usage: usage({ inputTokens: 10, outputTokens: 5, cacheCreationInputTokens: 7, cacheReadInputTokens: 100, totalTokens: 122 }), model: "claude-x", requestId: "msg_1", estimated: false, errored: false }, facts);
    expect(a).toMatchObject({ cacheReadTokens: 100, cachedTokens: 0, cacheCreationTokens: 7, totalTokens: 122, at: 400, firstByteMs: 30, durationMs: 300, model: "claude-x", requestId: "msg_1", errored: false });
    const o = usageEventOf({ format: "openai-chat", kind: "usage", usage: usage({ inputTokens: 50, outputTokens: 20, cacheReadInputTokens: 30, reasoningTokens: 8, totalTokens: 70 }), estimated: true, errored: false }, { ...facts, provider: "codex" });
    expect(o).toMatchObject({ cacheReadTokens: 0, cachedTokens: 30, reasoningTokens: 8, totalTokens: 70, estimated: true });
  });

  test("a token-count call is a call with no usage; an HTTP error or a missing response is errored", () => {
    const c = usageEventOf({ format: "anthropic-messages", kind: "count", usage: usage({ inputTokens: 25, totalTokens: 25 }), estimated: false, errored: false }, facts);
    expect(c).toMatchObject({ kind: "count", totalTokens: 0 });
    expect(usageEventOf({ format: "openai-responses", kind: "usage", usage: usage({}), estimated: false, errored: true }, { ...facts, status: 429 }).errored).toBe(true);
    const { status: _, ...noResponse } = facts;
    expect(usageEventOf({ format: "openai-responses", kind: "usage", usage: usage({}), estimated: false, errored: false }, noResponse).errored).toBe(true);
  });

  test("a batch lands whole or not at all", async () => {
    const db = await openLedger({ path: ledgerFile() });
    const good: UsageEvent = { runId: "r", provider: "claude", totalTokens: 5, at: 1 };
    const bad = { runId: "r", provider: null, totalTokens: 5, at: 2 } as unknown as UsageEvent;
    expect(await recordUsage(db, [good, good, bad]).catch((e: unknown) => e)).toBeInstanceOf(Error);
    expect(await db.selectFrom("usage_events").selectAll().execute()).toEqual([]);
    await recordUsage(db, [good, good]);
    expect((await db.selectFrom("usage_events").select("total_tokens").execute()).length).toBe(2);
    await db.destroy();
  });

  test("the writer commits on a later turn of the event loop, in one transaction, and flush waits for it", async () => {
    const db = await openLedger({ path: ledgerFile() });
    const w = new LedgerWriter(db);
    const committed = Array.from({ length: 50 }, (_, i) => w.usage({ runId: "r", provider: "codex", totalTokens: i, at: i }));
    w.audit({ time: 1, runId: "r", host: "example.com", method: "CONNECT", path: "", status: 403, decision: "deny", bytesUp: 0, bytesDown: 0, durationMs: 0 });
    // Nothing is written synchronously with the call.
    expect(Number((await sql<{ n: number }>`select count(*) as n from usage_events`.execute(db)).rows[0]!.n)).toBe(0);
    await w.flush();
    await Promise.all(committed);
    const r = await sql<{ n: number; s: number }>`select count(*) as n, sum(total_tokens) as s from usage_events`.execute(db);
    expect(r.rows[0]).toEqual({ n: 50, s: (49 * 50) / 2 });
    expect((await db.selectFrom("egress_audit").select(["host", "decision"]).execute())).toEqual([{ host: "example.com", decision: "deny" }]);
    expect(w.failed).toBe(0);
    await db.destroy();
  });
});

describe("usage report", () => {
  let db: LedgerDb;
  const DAY = 86_400_000;
  const T0 = Date.UTC(2026, 10, 20);
  beforeAll(async () => {
    db = await openLedger({ path: ledgerFile() });
    await registerRun(db, { id: "a1", agent: "coder", label: "fix-login", bottles: ["web", "node"], provider: "claude" });
    await registerRun(db, { id: "a2", agent: "coder", bottles: ["web"], provider: "codex" });
    await registerRun(db, { id: "p1", agent: "", label: "proxy" });
    const ev = (runId: string, agent: string, bottles: string[], provider: string, model: string | undefined, total: number, at: number, extra: Partial<UsageEvent> = {}): UsageEvent => ({ runId, agent, bottles, provider, ...(model ? { model } : {}), inputTokens: total - 1, outputTokens: 1, totalTokens: total, at, ...extra });
    await recordUsage(db, [
      ev("a1", "coder", ["web", "node"], "claude", "claude-s", 100, T0),
      ev("a1", "coder", ["web", "node"], "claude", "claude-s", 50, T0 + DAY, { estimated: true }),
      ev("a1", "coder", ["web", "node"], "claude", "claude-s", 0, T0 + DAY, { kind: "count" }),
      ev("a2", "coder", ["web"], "codex", "gpt-5", 1000, T0 + 2 * DAY, { cachedTokens: 400, reasoningTokens: 10 }),
      ev("p1", "", [], "claude", undefined, 7, T0 + 3 * DAY),
    ]);
  });

  test("by run: every run with its label and agent; total equals the ledger's sum", async () => {
    const r = await usageReport(db, { by: "run" });
    expect(r.rows.map((g) => [g.key, g.label, g.agent, g.requests, g.countCalls, g.estimated, g.totalTokens])).toEqual([
      ["a2", "coder", "coder", 1, 0, 0, 1000],
      ["a1", "fix-login", "coder", 2, 1, 1, 150],
      ["p1", "proxy", "", 1, 0, 0, 7],
    ]);
    const sum = await sql<{ s: number }>`select sum(total_tokens) as s from usage_events`.execute(db);
    expect(r.total.totalTokens).toBe(sum.rows[0]!.s);
    expect(r.total).toMatchObject({ runs: 3, requests: 4, countCalls: 1, estimated: 1, cachedTokens: 400, reasoningTokens: 10, totalTokens: 1157 });
  });

  test("by bottle: a run counts under each of its bottles, the total once", async () => {
    const r = await usageReport(db, { by: "bottle" });
    expect(r.rows.map((g) => [g.key, g.runs, g.totalTokens])).toEqual([["web", 2, 1150], ["node", 1, 150], ["", 1, 7]]);
    expect(r.total.totalTokens).toBe(1157);
  });

  test("by agent, provider and model", async () => {
    expect((await usageReport(db, { by: "agent" })).rows.map((g) => [g.key, g.totalTokens])).toEqual([["coder", 1150], ["", 7]]);
    expect((await usageReport(db, { by: "provider" })).rows.map((g) => [g.key, g.totalTokens])).toEqual([["codex", 1000], ["claude", 157]]);
    expect((await usageReport(db, { by: "model" })).rows.map((g) => [g.key, g.totalTokens])).toEqual([["gpt-5", 1000], ["claude-s", 150], ["", 7]]);
  });

  test("since is inclusive, until exclusive", async () => {
    const r = await usageReport(db, { by: "provider", since: T0 + DAY, until: T0 + 3 * DAY });
    expect(r.rows.map((g) => [g.key, g.totalTokens])).toEqual([["codex", 1000], ["claude", 50]]);
    expect(r.total.totalTokens).toBe(1050);
    expect(r.since).toBe(new Date(T0 + DAY).toISOString());
    const empty = await usageReport(db, { by: "run", since: T0 + 10 * DAY });
    expect(empty.rows).toEqual([]);
    expect(empty.total.totalTokens).toBe(0);
  });
});
