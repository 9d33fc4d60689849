/**
 * The simulated provider hosted by a `--simulate` run or proxy leaves no connection open once it has
 * answered. Its server has no idle timeout (a test may hold a stream at a gate), and Bun's HTTP server wakes
 * every second while any connection is open, so one kept-alive connection from a `--simulate` proxy's own
 * client kept that proxy waking every second for as long as it lived. Here a raw client sends a streamed and
 * a plain request to a simulator started as those hosts start it and waits for the server to end the
 * connection (one started as tests start it keeps it open); then a real `bottle proxy --simulate` serves curl,
 * and the test waits until no TCP connection to its simulator's port is left (before the fix one stayed
 * established for good, so both waits ran into their bound).
 */
import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { startSimulator, type Simulator } from "../../src/simulator/server.ts";
import { cliEnv, freshHome, MAIN } from "../support/cli.ts";

setDefaultTimeout(60_000);

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

/** Sends one HTTP/1.1 request (keep-alive, the HTTP/1.1 default) and resolves with what came back once the server closed the connection. */
function untilServerCloses(port: number, request: string, boundMs: number): Promise<{ closed: boolean; text: string }> {
  return new Promise((resolve) => {
    const s = connect({ port, host: "127.0.0.1" });
    let text = "";
    const bound = setTimeout(() => {
      s.destroy();
      resolve({ closed: false, text });
    }, boundMs);
    s.on("data", (d) => (text += d.toString()));
    s.on("end", () => {
      clearTimeout(bound);
      s.destroy();
      resolve({ closed: true, text });
    });
    s.on("error", () => {});
    s.write(request);
  });
}

test("a simulator started with closeConnections ends each connection after its answer, streamed or not", async () => {
  sim = startSimulator({ text: "hello there", closeConnections: true });
  const body = JSON.stringify({ model: "m", max_tokens: 10, stream: true, messages: [{ role: "user", content: "hi" }] });
  const streamed = await untilServerCloses(sim.port, `POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, 15_000);
  expect(streamed.text).toContain("event: message_stop"); // the whole stream arrived first
  expect(streamed.closed).toBe(true);
  const missing = await untilServerCloses(sim.port, "GET /nothing HTTP/1.1\r\nhost: x\r\n\r\n", 15_000);
  expect(missing.text).toStartWith("HTTP/1.1 404");
  expect(missing.closed).toBe(true);
});

test("one started without it keeps the connection alive for the next request", async () => {
  sim = startSimulator({ text: "hello there" });
  const kept = await untilServerCloses(sim.port, "GET /nothing HTTP/1.1\r\nhost: x\r\n\r\n", 1_000);
  expect(kept.text).toStartWith("HTTP/1.1 404");
  expect(kept.closed).toBe(false);
});

/** Established TCP connections (either end) on a loopback port, from the namespace's /proc/net/tcp. */
function establishedOn(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  return readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1).filter((l) => {
    const f = l.trim().split(/\s+/);
    return f[3] === "01" && (f[1]?.endsWith(`:${hex}`) || f[2]?.endsWith(`:${hex}`));
  }).length;
}

test("bottle proxy --simulate keeps no connection to its simulator after serving a request", async () => {
  const home = freshHome();
  const p = Bun.spawn(["bun", MAIN, "proxy", "--simulate", "--provider", "claude", "--json"], { env: cliEnv({ home }), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  try {
    const reader = (p.stdout as ReadableStream<Uint8Array>).getReader();
    let out = "";
    while (!out.includes("\n")) {
      const { done, value } = await reader.read();
      if (done) throw new Error("bottle proxy exited before its ready line");
      out += new TextDecoder().decode(value);
    }
    reader.releaseLock();
    const ready = JSON.parse(out.split("\n")[0]!) as { env: Record<string, string> };
    let err = "";
    const errReader = (p.stderr as ReadableStream<Uint8Array>).getReader();
    while (!/simulated provider at http:\/\/127\.0\.0\.1:(\d+)/.test(err)) {
      const { done, value } = await errReader.read();
      if (done) throw new Error(`bottle proxy said nothing of its simulator: ${err}`);
      err += new TextDecoder().decode(value);
    }
    const simPort = Number(/simulated provider at http:\/\/127\.0\.0\.1:(\d+)/.exec(err)![1]);
    const body = JSON.stringify({ model: "m", max_tokens: 10, stream: true, messages: [{ role: "user", content: "hi" }] });
    const curl = Bun.spawnSync(["curl", "-sS", "--max-time", "30", "--proxy", ready.env.HTTPS_PROXY!, "--cacert", join(home, "ca/ca.pem"), "https://api.anthropic.com/v1/messages", "-H", "content-type: application/json", "-H", "x-api-key: none", "-d", body], { stdout: "pipe", stderr: "pipe" });
    expect(curl.stderr.toString()).toBe("");
    expect(curl.stdout.toString()).toContain("event: message_stop");
    let left = establishedOn(simPort);
    for (let i = 0; i < 200 && left > 0; i++) {
      await Bun.sleep(50);
      left = establishedOn(simPort);
    }
    expect(left).toBe(0);
  } finally {
    p.kill("SIGTERM");
    await p.exited;
  }
});
