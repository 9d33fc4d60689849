/**
 * The ledger wired to the real proxy: the official SDK clients (Anthropic streaming Messages, OpenAI
 * streaming Chat Completions and Responses) talk through a MITM run to the simulated provider over TLS,
 * and the ledger holds exactly the tokens the simulator reported, in every column, attributed to the run,
 * its agent and its bottles. Composed with the budget hooks, a reservation settles at the recorded usage.
 * The audit log follows the run's egress.log level. A client holding the ledger's write lock still gets
 * its whole stream: recording never stands between the proxy and the agent's bytes.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { onPostgres } from "../support/postgres.ts";
import { composeHooks } from "../../src/enforce/compose-hooks.ts";
import { budgetHooks } from "../../src/enforce/hooks.ts";
import { sqlEnforceStore } from "../../src/enforce/sql-store.ts";
import { auditOf, ledgerHooks, openLedger, registerRun, type LedgerDb, type LedgerHooks } from "../../src/ledger/index.ts";
import type { EgressLogLevel } from "../../src/manifest/types.ts";
import type { EgressProxy, RunHandle } from "../../src/proxy/proxy.ts";
import type { Simulator } from "../../src/simulator/server.ts";
import { ledgerFile } from "../support/enforce-db.ts";
import { bottleCa, simulatedRoutes, viaProxy, curl, startTlsSimulator, testProxy } from "../support/proxy-fixture.ts";

const USAGE = { inputTokens: 1200, outputTokens: 345, cacheCreationInputTokens: 100, cacheReadInputTokens: 800, reasoningTokens: 64 };
let sim: Simulator;
let file: string;
let db: LedgerDb;
let proxy: EgressProxy;
const handles: RunHandle[] = [];
const hooksOf = new Map<string, LedgerHooks>();

beforeAll(async () => {
  sim = startTlsSimulator({ text: "one two three four five", usage: USAGE });
  file = ledgerFile();
  db = await openLedger({ path: file });
  proxy = testProxy();
});
afterAll(async () => {
  for (const h of handles) await h.close();
  await proxy.close();
  await sim.close();
  await db.destroy();
});

async function openRun(id: string, opts: { log?: EgressLogLevel; budget?: boolean } = {}): Promise<RunHandle> {
  await registerRun(db, { id, agent: "coder", bottles: ["web"], chain: ["base", "web"] });
  const ledger = ledgerHooks(db, { id, agent: "coder", bottles: ["web"], chain: ["base", "web"] });
  hooksOf.set(id, ledger);
  const budget = budgetHooks({ store: sqlEnforceStore(db), plan: { runId: id, timeZone: "UTC", preflight: "estimate", budgets: { claude: { provider: "claude", tokens: 10_000_000, scope: "run" }, codex: { provider: "codex", tokens: 10_000_000, scope: "run" } } }, policy: "cutoff" });
  const h = await proxy.openRun({
    runId: id,
    hooks: opts.budget ? composeHooks(ledger, budget) : ledger,
    log: opts.log ?? "full",
    routes: simulatedRoutes(sim),
  });
  handles.push(h);
  return h;
}

const fetchOptions = viaProxy;
const rows = async (runId: string) => {
  await hooksOf.get(runId)!.flush();
  return db.selectFrom("usage_events").selectAll().where("run_id", "=", runId).orderBy("id").execute();
};

describe("official SDKs through the proxy: the ledger holds exactly what the upstream reported", () => {
  test("Anthropic streaming Messages (with the budget hooks composed after the ledger)", async () => {
    const h = await openRun("sdk-anthropic", { budget: true });
    const client = new Anthropic({ apiKey: "sk-placeholder", fetchOptions: fetchOptions(h) });
    const stream = client.messages.stream({ model: "claude-test", max_tokens: 400, messages: [{ role: "user", content: "count" }] });
    const final = await stream.finalMessage();
    expect(final.usage).toMatchObject({ input_tokens: 1200, output_tokens: 345, cache_creation_input_tokens: 100, cache_read_input_tokens: 800 });
    const [r] = await rows("sdk-anthropic");
    expect(r).toMatchObject({
      run_id: "sdk-anthropic", agent: "coder", bottles: '["web"]', chain: '["base","web"]', provider: "claude", format: "anthropic-messages", kind: "usage",
      model: "claude-test", host: "api.anthropic.com", method: "POST", path: "/v1/messages", status: 200,
      input_tokens: 1200, output_tokens: 345, cache_creation_tokens: 100, cache_read_tokens: 800, cached_tokens: 0, reasoning_tokens: 0,
      total_tokens: 2445, estimated: 0, errored: 0, request_id: final.id,
    });
    expect(r!.duration_ms).toBeGreaterThanOrEqual(r!.first_byte_ms!);
    // The reservation the budget hooks held was settled at the usage the ledger recorded.
    let res: { settled_tokens: number | null } | undefined;
    for (let i = 0; i < 200 && res?.settled_tokens == null; i++) {
      res = await db.selectFrom("reservations").select("settled_tokens").where("run_id", "=", "sdk-anthropic").executeTakeFirst();
      if (res?.settled_tokens == null) await Bun.sleep(10);
    }
    expect(res?.settled_tokens).toBe(2445);
  });

  test("OpenAI streaming Chat Completions, without and with include_usage", async () => {
    const h = await openRun("sdk-chat");
    const client = new OpenAI({ apiKey: "sk-placeholder", fetchOptions: fetchOptions(h) });
    let sawUsage = false;
    for await (const c of await client.chat.completions.create({ model: "gpt-test", stream: true, messages: [{ role: "user", content: "hi" }] })) if (c.usage) sawUsage = true;
    expect(sawUsage).toBe(false); // the proxy added include_usage upstream and stripped the extra chunk
    let reported: OpenAI.CompletionUsage | undefined;
    for await (const c of await client.chat.completions.create({ model: "gpt-test", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "hi" }] })) reported = c.usage ?? reported;
    expect(reported).toMatchObject({ prompt_tokens: 1200, completion_tokens: 345 });
    const rs = await rows("sdk-chat");
    expect(rs.length).toBe(2);
    for (const r of rs) {
      expect(r).toMatchObject({ provider: "codex", format: "openai-chat", model: "gpt-test", path: "/v1/chat/completions", input_tokens: 1200, output_tokens: 345, cached_tokens: 800, cache_read_tokens: 0, reasoning_tokens: 64, total_tokens: 1545, estimated: 0 });
    }
  });

  test("OpenAI streaming Responses", async () => {
    const h = await openRun("sdk-responses");
    const client = new OpenAI({ apiKey: "sk-placeholder", fetchOptions: fetchOptions(h) });
    let completed: OpenAI.Responses.ResponseUsage | undefined;
    let id = "";
    for await (const e of await client.responses.create({ model: "gpt-test", input: "hi", stream: true })) {
      if (e.type === "response.completed") {
        completed = e.response.usage ?? undefined;
        id = e.response.id;
      }
    }
    expect(completed).toMatchObject({ input_tokens: 1200, output_tokens: 345 });
    const [r] = await rows("sdk-responses");
    expect(r).toMatchObject({ provider: "codex", format: "openai-responses", path: "/v1/responses", input_tokens: 1200, output_tokens: 345, cached_tokens: 800, reasoning_tokens: 64, total_tokens: 1545, request_id: id });
  });
});

describe("the egress audit log", () => {
  for (const level of ["full", "blocks"] as const) {
    test(`egress.log ${level}`, async () => {
      const id = `audit-${level}`;
      const h = await openRun(id, { log: level });
      const ok = await curl(["--proxy", h.proxyUrl!, "--cacert", bottleCa().certPath, "-d", "{}", "https://api.anthropic.com/v1/messages/count_tokens"]);
      expect(JSON.parse(ok.stdout).input_tokens).toBe(1200);
      const denied = await curl(["-o", "/dev/null", "-w", "%{http_connect}", "--proxy", h.proxyUrl!, "https://example.com/"]);
      expect(denied.stdout).toBe("403");
      await hooksOf.get(id)!.flush();
      const audit = (await auditOf(db, id)).map((a) => [a.decision, a.method, a.host, a.status]);
      const deny = ["deny", "CONNECT", "example.com", 403];
      expect(audit).toEqual(level === "full" ? [["mitm", "POST", "api.anthropic.com", 200], deny] : [deny]);
      // The count call is a call, not usage.
      const rs = await rows(id);
      expect(rs.map((r) => [r.kind, r.total_tokens, r.path])).toEqual([["count", 0, "/v1/messages/count_tokens"]]);
    });
  }
});

describe("recording never delays the agent's bytes, and the exchange ends only once it is charged", () => {
  // SQLite: the file's write lock, held by another process; Postgres: the fleet ledger's advisory lock.
  test("a client holding the ledger's write lock receives every byte; its stream ends after the row is committed", async () => {
    const h = await openRun("locked");
    const p = Bun.spawn(["bun", join(import.meta.dir, "../support/locked-client.ts"), file, h.proxyUrl!, bottleCa().certPath], { stdout: "pipe", stderr: "inherit" });
    const timer = setTimeout(() => p.kill("SIGKILL"), 30_000);
    const out = await new Response(p.stdout).text();
    clearTimeout(timer);
    expect(await p.exited).toBe(0);
    const [held, after] = out.trim().split("\n").map((l) => JSON.parse(l));
    // Every byte arrived while the lock was held, but the stream stayed open: nothing was charged yet.
    expect(held).toEqual({ allBytes: true, ended: false });
    expect(after).toEqual({ complete: true });
    const [r] = await rows("locked");
    expect(r).toMatchObject({ total_tokens: 2445, estimated: 0 });
    // SQLite: the writer did find the ledger locked, and waited off the event loop rather than on it.
    // (A Postgres writer waits inside the server, on an asynchronous connection.)
    if (!onPostgres()) expect(hooksOf.get("locked")!.writer.busyRetries).toBeGreaterThan(0);
  });
});
