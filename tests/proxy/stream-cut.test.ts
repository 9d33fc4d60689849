/**
 * An upstream that cuts its stream mid-flight is an everyday event (a provider restart, a dropped
 * connection), not a crash of bottle: the real `bottle proxy` process prints one warning line for it, never
 * a stack trace, and the exchange is still charged (what was seen, plus an estimate for the rest).
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { curl } from "../support/proxy-fixture.ts";
import { freshHome } from "../support/cli.ts";

const MAIN = join(import.meta.dir, "../../src/cli/main.ts");
let proc: Subprocess<"ignore", "pipe", "pipe"> | undefined;
let upstream: Server | undefined;
afterEach(() => {
  if (proc && proc.exitCode === null) proc.kill("SIGKILL");
  proc = undefined;
  upstream?.close();
  upstream = undefined;
});

/** A loopback Anthropic stand-in that sends message_start and one text delta, then resets the connection. */
async function cuttingUpstream(): Promise<number> {
  const start = { type: "message_start", message: { id: "msg_1", type: "message", role: "assistant", model: "claude-x", content: [], stop_reason: null, usage: { input_tokens: 120, output_tokens: 1 } } };
  const delta = { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hello, this is half of" } };
  const body = `event: message_start\ndata: ${JSON.stringify(start)}\n\nevent: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\nevent: content_block_delta\ndata: ${JSON.stringify(delta)}\n\n`;
  upstream = createServer((socket) => {
    socket.once("data", () => {
      socket.write(`HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n`);
      setTimeout(() => socket.resetAndDestroy(), 100);
    });
  });
  await new Promise<void>((r) => upstream!.listen(0, "127.0.0.1", r));
  return (upstream.address() as { port: number }).port;
}

async function startProxy(home: string, port: number): Promise<string> {
  proc = Bun.spawn(["bun", MAIN, "proxy", "--json", "--provider", "claude", "--upstream", `http://127.0.0.1:${port}`], {
    env: { ...process.env, BOTTLE_HOME: home, ANTHROPIC_API_KEY: "sk-test" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`bottle proxy exited: ${await new Response(proc.stderr).text()}`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return JSON.parse(text).env.HTTPS_PROXY as string;
}

describe("a stream cut mid-flight", () => {
  test("one warning line on stderr, no stack trace; the exchange is still charged", async () => {
    const home = freshHome();
    const proxy = await startProxy(home, await cuttingUpstream());
    const r = await curl(["-sS", "--proxy", proxy, "--cacert", join(home, "ca", "ca.pem"), "-d", JSON.stringify({ model: "claude-x", max_tokens: 50, stream: true, messages: [{ role: "user", content: "hi" }] }), "https://api.anthropic.com/v1/messages"]);
    expect(r.stdout).toContain("half of");
    expect(r.code).not.toBe(0); // the client sees the cut too
    // Wait for the charge to land, then stop the proxy and read everything it printed.
    const db = new Database(join(home, "bottle.db"), { readonly: true });
    let row: { total_tokens: number; estimated: number } | null = null;
    for (let i = 0; i < 200 && !row; i++) {
      row = db.query("select total_tokens, estimated from usage_events where kind = 'usage'").get() as typeof row;
      if (!row) await Bun.sleep(50);
    }
    db.close();
    expect(row).not.toBeNull();
    expect(row!.total_tokens).toBeGreaterThan(120);
    expect(row!.estimated).toBe(1);
    proc!.kill("SIGTERM");
    expect(await proc!.exited).toBe(0);
    const stderr = await new Response(proc!.stderr).text();
    expect(stderr).not.toContain("TypeError");
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr).not.toContain("passthrough.ts");
    const warnings = stderr.split("\n").filter((l) => /mid-flight/.test(l));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("POST api.anthropic.com/v1/messages");
  }, 30_000);
});
