/**
 * The shared database goes away mid-run. `bottle proxy` on a fleet ledger (a cluster of this test's own)
 * relays a stream that is held open by the upstream; Postgres is stopped while it is in flight. The stream
 * still reaches the client whole, and its usage, which cannot be committed, is spooled under BOTTLE_HOME.
 * The next request is refused retryably (503, retry-after) with a message naming the ledger, never with
 * the budget's refusal, and the session is not ended. Once Postgres is back the spooled row is written,
 * requests are admitted again, and the ledger holds every row exactly once, with running totals equal to
 * the sums.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { proxyReady } from "../support/bottle-proxy.ts";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { checkTotals, openLedger } from "../../src/ledger/index.ts";
import { curl } from "../support/proxy-fixture.ts";
import { ownCluster, type OwnCluster } from "../support/postgres.ts";

const MAIN = join(import.meta.dir, "../../src/cli/main.ts");
let cluster: OwnCluster;
let proxy: Subprocess<"ignore", "pipe", "pipe"> | undefined;
let upstream: ReturnType<typeof Bun.serve> | undefined;
let release: (() => void) | undefined;

beforeAll(() => {
  cluster = ownCluster();
});
afterAll(() => {
  if (proxy && proxy.exitCode === null) proxy.kill("SIGKILL");
  upstream?.stop(true);
  cluster?.destroy();
});

const enc = new TextEncoder();
const ev = (name: string, data: unknown) => enc.encode(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);

/** Anthropic's Messages stream; the first request with `hold` in its prompt waits after message_start. */
function startUpstream(): number {
  upstream = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const body = (await req.json()) as { messages: { content: string }[] };
      const hold = body.messages[0]?.content === "hold";
      const stream = new ReadableStream<Uint8Array>({
        async start(c) {
          c.enqueue(ev("message_start", { type: "message_start", message: { id: "msg_fleet", type: "message", role: "assistant", model: "claude-sonnet-4-5", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 30, output_tokens: 1 } } }));
          if (hold) await new Promise<void>((r) => (release = r));
          c.enqueue(ev("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }));
          c.enqueue(ev("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "ok" } }));
          c.enqueue(ev("content_block_stop", { type: "content_block_stop", index: 0 }));
          c.enqueue(ev("message_delta", { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 10 } }));
          c.enqueue(ev("message_stop", { type: "message_stop" }));
          c.close();
        },
      });
      return new Response(stream, { headers: { "content-type": "text/event-stream" } });
    },
  });
  return upstream.port!;
}

test("Postgres stopped mid-run: in-flight usage is spooled, requests are refused retryably, and after the restart every row is counted once", async () => {
  const port = startUpstream();
  const home = mkdtempSync(join(process.env.TMPDIR!, "fleet-home-"));
  const env = { ...process.env, BOTTLE_HOME: home, BOTTLE_LEDGER_URL: cluster.url, BOTTLE_HOST_NAME: "host-a", NO_COLOR: "1", TZ: "UTC" };
  proxy = Bun.spawn(["bun", MAIN, "proxy", "--upstream", `http://127.0.0.1:${port}`, "--provider", "claude", "--budget", "100000", "--json"], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const { runId, env: px } = await proxyReady(proxy);
  const send = (prompt: string) =>
    curl(["-s", "-D", "-", "--proxy", px.HTTPS_PROXY!, "--cacert", px.SSL_CERT_FILE!, "-H", "content-type: application/json", "-d", JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 50, stream: true, messages: [{ role: "user", content: prompt }] }), "https://api.anthropic.com/v1/messages"], 60_000);

  expect((await send("first")).stdout).toContain("message_stop");

  // A stream in flight when the database goes down.
  const held = send("hold");
  for (let i = 0; i < 200 && !release; i++) await Bun.sleep(25);
  expect(release).toBeDefined();
  cluster.stop();
  release!();
  const inFlight = await held;
  expect(inFlight.code).toBe(0);
  expect(inFlight.stdout).toContain("message_stop");

  // Its usage could not be committed: it waits in the spool, durably.
  const spool = join(home, "spool");
  for (let i = 0; i < 200 && !(existsSync(spool) && readdirSync(spool).length > 0); i++) await Bun.sleep(50);
  expect(readdirSync(spool).length).toBe(1);

  // Nothing is admitted while the ledger is unreachable, and the refusal is bottle's trouble, not the budget's.
  const refused = await send("while down");
  expect(refused.stdout).toMatch(/\r\n\r\nHTTP\/1\.1 503 /);
  expect(refused.stdout).toContain("x-bottle-refusal: ledger");
  expect(refused.stdout.toLowerCase()).toContain("retry-after:");
  expect(refused.stdout).toContain("127.0.0.1");
  expect(refused.stdout).not.toContain("insufficient_quota");
  expect(proxy.exitCode).toBeNull();

  cluster.start();
  let back = "";
  for (let i = 0; i < 60; i++) {
    const r = await send("after");
    back = r.stdout;
    if (/\r\n\r\nHTTP\/1\.1 200 /.test(back)) break;
    await Bun.sleep(500);
  }
  expect(back).toContain("message_stop");
  for (let i = 0; i < 100 && readdirSync(spool).length > 0; i++) await Bun.sleep(50);
  expect(readdirSync(spool)).toEqual([]);

  proxy.kill("SIGTERM");
  expect(await proxy.exited).toBe(0);

  const db = await openLedger({ path: cluster.url });
  try {
    const rows = await db.selectFrom("usage_events").select(["total_tokens", "host"]).where("run_id", "=", runId).orderBy("id").execute();
    // first, the held stream (spooled, then written once), and the request after the restart: 30 in + 10 out each.
    expect(rows).toEqual([
      { total_tokens: 40, host: "api.anthropic.com" },
      { total_tokens: 40, host: "api.anthropic.com" },
      { total_tokens: 40, host: "api.anthropic.com" },
    ]);
    expect((await checkTotals(db)).mismatches).toEqual([]);
    const run = await db.selectFrom("runs").select(["host", "state"]).where("id", "=", runId).executeTakeFirstOrThrow();
    expect(run).toEqual({ host: "host-a", state: "ended" });
  } finally {
    await db.destroy();
  }
}, 180_000);
