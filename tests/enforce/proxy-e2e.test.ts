/**
 * Budgets enforced by the real proxy against a simulated provider, driven by the official SDKs: the request
 * after the crossing one is refused in the provider's shape, reaches the proxy exactly once and is not
 * retried; the cutoff policy then refuses the run's every request; a client that aborts mid-stream gets its
 * reservation released and is charged exactly what the bytes it received carried.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Kysely } from "kysely";
import type { RunBudgetPlan } from "../../src/enforce/admission.ts";
import { composeHooks } from "../../src/enforce/compose-hooks.ts";
import { budgetHooks } from "../../src/enforce/hooks.ts";
import { sqlEnforceStore, type EnforceTables } from "../../src/enforce/sql-store.ts";
import type { ShutdownPolicy } from "../../src/manifest/types.ts";
import { selectMeter } from "../../src/metering/index.ts";
import type { MeterResult } from "../../src/metering/types.ts";
import type { AuditRecord } from "../../src/proxy/hooks.ts";
import type { EgressProxy, RunHandle } from "../../src/proxy/proxy.ts";
import type { Simulator } from "../../src/simulator/server.ts";
import { addRun, ledgerFile, openTestLedger } from "../support/enforce-db.ts";
import { bottleCa, simulatedRoutes, viaProxy, startTlsSimulator, testProxy, upstreamCa } from "../support/proxy-fixture.ts";
import { usageRecorder } from "../support/usage-recorder.ts";

let sim: Simulator;
let db: Kysely<EnforceTables>;
let proxy: EgressProxy;
const handles: RunHandle[] = [];
const audits: AuditRecord[] = [];
const results: MeterResult[] = [];

beforeAll(() => {
  sim = startTlsSimulator({ text: "one two three four five six seven eight nine ten" });
  db = openTestLedger(ledgerFile());
  proxy = testProxy();
});
afterAll(async () => {
  for (const h of handles) await h.close();
  await proxy.close();
  await sim.close();
  await db.destroy();
});

async function openRun(runId: string, plan: Omit<RunBudgetPlan, "runId" | "timeZone">, policy: ShutdownPolicy = "cutoff"): Promise<RunHandle> {
  await addRun(db, { id: runId, agent: "e2e", pid: process.pid });
  const hooks = composeHooks(usageRecorder(db, results), budgetHooks({ store: sqlEnforceStore(db), plan: { runId, timeZone: "UTC", ...plan }, policy }), {
    onAudit: (r) => void audits.push(r),
  });
  const h = await proxy.openRun({
    runId,
    hooks,
    routes: simulatedRoutes(sim),
  });
  handles.push(h);
  return h;
}

const fetchOptions = viaProxy;
const anthropic = (h: RunHandle) => new Anthropic({ apiKey: "sk-placeholder", fetchOptions: fetchOptions(h) });
const openai = (h: RunHandle) => new OpenAI({ apiKey: "sk-placeholder", fetchOptions: fetchOptions(h) });
const exchanges = (runId: string) => audits.filter((a) => a.runId === runId && a.path !== "");
const ask = { model: "claude-test-model", max_tokens: 64, messages: [{ role: "user" as const, content: "count to ten" }] };

describe("refusal through the proxy, official SDKs", () => {
  test("Anthropic: the crossing request completes, the next is one 402 that is not retried", async () => {
    const h = await openRun("e2e-anthropic", { preflight: "off", budgets: { claude: { provider: "claude", tokens: 30, scope: "run" } } });
    const first = await anthropic(h).messages.create(ask);
    expect(first.usage.input_tokens + first.usage.output_tokens).toBe(37); // crosses 30
    const before = exchanges("e2e-anthropic").length;
    const upstreamBefore = sim.requests.length;
    const err = (await anthropic(h).messages.create(ask).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(err.status).toBe(402);
    expect(err.message).toContain("run budget (--budget)");
    expect(err.message).toContain("37 of 30 tokens used");
    expect(exchanges("e2e-anthropic").length - before).toBe(1);
    expect(sim.requests.length).toBe(upstreamBefore);
    const actions = await db.selectFrom("enforcement_actions").selectAll().where("run_id", "=", "e2e-anthropic").execute();
    expect(actions).toMatchObject([{ kind: "cutoff", trigger: "budget", used: 37, limit_tokens: 30, provider: "claude" }]);
  });

  test("OpenAI: the refusal is one 429 insufficient_quota, not retried; cutoff then refuses everything", async () => {
    const h = await openRun("e2e-openai", { preflight: "off", budgets: { codex: { provider: "codex", tokens: 30, scope: "run" } } });
    await openai(h).chat.completions.create({ model: "gpt-test", messages: [{ role: "user", content: "hi" }] });
    const before = exchanges("e2e-openai").length;
    const err = (await openai(h).responses.create({ model: "gpt-test", input: "hi" }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.code).toBe("insufficient_quota");
    expect(exchanges("e2e-openai").length - before).toBe(1);
    // The run is cut off: even a provider without a budget is refused now.
    const cut = (await anthropic(h).messages.create(ask).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(cut.status).toBe(402);
    expect(cut.message).toContain("is cut off");
  });
});

describe("client abort mid-stream", () => {
  test("the reservation is released and the ledger holds exactly the usage of the bytes delivered", async () => {
    const h = await openRun("e2e-abort", { preflight: "estimate", budgets: { claude: { provider: "claude", tokens: 1_000_000, scope: "run" } } });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    sim.set({ beforeEvent: async (i) => (i === 5 ? held : undefined) });
    try {
      const ac = new AbortController();
      const res = await fetch("https://api.anthropic.com/v1/messages", {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": "sk-placeholder" },
        body: JSON.stringify({ ...ask, stream: true }),
        signal: ac.signal,
        ...fetchOptions(h),
      } as RequestInit);
      const reader = res.body!.getReader();
      let delivered = "";
      while (!delivered.includes('"text":"two ')) delivered += new TextDecoder().decode((await reader.read()).value);
      const open = await db.selectFrom("reservations").selectAll().where("run_id", "=", "e2e-abort").where("released_at", "is", null).execute();
      expect(open.length).toBe(1);
      ac.abort();
      await reader.cancel().catch(() => undefined);
      let r: { released_at: number | null } | undefined;
      for (let i = 0; i < 500 && !r?.released_at; i++) {
        await Bun.sleep(10);
        r = await db.selectFrom("reservations").select("released_at").where("id", "=", open[0]!.id).executeTakeFirst();
      }
      expect(r?.released_at).not.toBeNull();
      const charged = await db.selectFrom("usage_events").select("total_tokens").where("run_id", "=", "e2e-abort").execute();
      expect(charged.length).toBe(1);
      // Meter the delivered bytes independently: the ledger must hold exactly that.
      const m = selectMeter({ provider: "claude", host: "api.anthropic.com", method: "POST", path: "/v1/messages", requestHeaders: new Headers(), requestBody: new TextEncoder().encode(JSON.stringify({ ...ask, stream: true })) })!;
      m.onResponseStart(200, new Headers({ "content-type": "text/event-stream" }));
      m.push(new TextEncoder().encode(delivered));
      const expected = m.abort();
      expect(expected.estimated).toBe(true);
      expect(charged[0]!.total_tokens).toBe(expected.usage.totalTokens);
      expect(charged[0]!.total_tokens).toBeGreaterThan(25);
    } finally {
      release();
      sim.set({ beforeEvent: undefined });
    }
  });
});

describe("preflight: provider", () => {
  test("the provider's count endpoint sizes the reservation; one that does not fit is refused before upstream", async () => {
    await addRun(db, { id: "e2e-count", agent: "e2e", pid: process.pid });
    const upstreamFetch = (url: string, init: RequestInit) => fetch(url, { ...init, tls: { ca: upstreamCa().ca.certPem } } as RequestInit);
    const plan: RunBudgetPlan = { runId: "e2e-count", timeZone: "UTC", preflight: "provider", budgets: { claude: { provider: "claude", tokens: 1000, scope: "run" } } };
    process.env.BOTTLE_TEST_COUNT_KEY = "sk-real-count";
    const h = await proxy.openRun({
      runId: "e2e-count",
      hooks: composeHooks(usageRecorder(db, results), budgetHooks({ store: sqlEnforceStore(db), plan, policy: "cutoff", fetcher: upstreamFetch })),
      routes: [{ host: "api.anthropic.com", upstream: sim.url, auth: { header: "x-api-key", env: "BOTTLE_TEST_COUNT_KEY" } }],
    });
    handles.push(h);
    try {
      sim.set({ countTokens: 2000 });
      const generations = () => sim.requests.filter((r) => r.path === "/v1/messages").length;
      const before = generations();
      const err = (await anthropic(h).messages.create(ask).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
      expect(err.status).toBe(402);
      expect(err.message).toContain("could use up to 2,064 claude tokens");
      expect(generations()).toBe(before);
      const count = sim.requests.filter((r) => r.path === "/v1/messages/count_tokens").at(-1)!;
      expect(count.headers["x-api-key"]).toBe("sk-real-count");
      expect(count.body).toEqual({ model: ask.model, messages: ask.messages });

      sim.set({ countTokens: 900 });
      const ok = await anthropic(h).messages.create(ask);
      expect(ok.usage.input_tokens).toBe(25);
      const reservation = await db.selectFrom("reservations").selectAll().where("run_id", "=", "e2e-count").executeTakeFirstOrThrow();
      expect(reservation.tokens).toBe(964);
      expect(reservation.settled_tokens).toBe(37);
    } finally {
      delete process.env.BOTTLE_TEST_COUNT_KEY;
      sim.set({ countTokens: undefined });
    }
  });
});

describe("preflight: clamp", () => {
  test("a request asking more output than the budget has left is sent with its cap lowered to fit; refused only when input + the minimum output cannot fit", async () => {
    await addRun(db, { id: "e2e-clamp", agent: "e2e", pid: process.pid });
    const upstreamFetch = (url: string, init: RequestInit) => fetch(url, { ...init, tls: { ca: upstreamCa().ca.certPem } } as RequestInit);
    const plan: RunBudgetPlan = { runId: "e2e-clamp", timeZone: "UTC", preflight: "clamp", budgets: { claude: { provider: "claude", tokens: 1000, scope: "run" }, codex: { provider: "codex", tokens: 1000, scope: "run" } } };
    const h = await proxy.openRun({
      runId: "e2e-clamp",
      hooks: composeHooks(usageRecorder(db, results), budgetHooks({ store: sqlEnforceStore(db), plan, policy: "cutoff", fetcher: upstreamFetch })),
      routes: simulatedRoutes(sim),
    });
    handles.push(h);
    // Streamed, as Claude Code asks (the SDK refuses a non-streamed 64,000-token request).
    const stream = (body: Parameters<Anthropic["messages"]["stream"]>[0]) => anthropic(h).messages.stream(body).finalMessage();
    const sent = (path: string) => sim.requests.filter((r) => r.path === path).at(-1)!.body as Record<string, unknown>;
    try {
      // Claude Code asks 64,000 output tokens on every turn: 100 counted input leaves 900 of the 1,000.
      sim.set({ countTokens: 100 });
      const first = await stream({ ...ask, max_tokens: 64_000, thinking: { type: "enabled", budget_tokens: 16_000 } });
      expect(first.usage.output_tokens).toBe(12);
      expect(sent("/v1/messages").max_tokens).toBe(900);
      expect(sent("/v1/messages").thinking).toBeUndefined(); // a thinking budget must stay under the cap and at least 1,024
      expect(sent("/v1/messages").messages).toEqual(ask.messages);
      const reservation = await db.selectFrom("reservations").selectAll().where("run_id", "=", "e2e-clamp").executeTakeFirstOrThrow();
      expect(reservation.tokens).toBe(1000);
      expect(reservation.settled_tokens).toBe(37);

      // 37 used: 963 left, 863 after the input.
      await stream({ ...ask, max_tokens: 64_000 });
      expect(sent("/v1/messages").max_tokens).toBe(863);
      // A request asking less than is left goes out untouched.
      await stream({ ...ask, max_tokens: 300 });
      expect(sent("/v1/messages").max_tokens).toBe(300);

      // 111 used: 889 left. 700 input leaves 189, under the 256-token minimum output: a final refusal.
      sim.set({ countTokens: 700 });
      const generations = sim.requests.filter((r) => r.path === "/v1/messages").length;
      const err = (await stream({ ...ask, max_tokens: 64_000 }).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
      expect(err.status).toBe(402);
      expect(err.message).toContain("could use up to 956 claude tokens");
      expect(sim.requests.filter((r) => r.path === "/v1/messages").length).toBe(generations);

      // The Responses API without a cap (Codex sends none) gets one written in.
      sim.set({ countTokens: 50 });
      await openai(h).responses.create({ model: "gpt-test", input: "count to ten" });
      expect(sent("/v1/responses").max_output_tokens).toBe(950);
    } finally {
      sim.set({ countTokens: undefined });
    }
  });
});
