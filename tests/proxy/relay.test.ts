/**
 * The hop from a CONNECT socket into the run's TLS listener (front.ts and native-pipe.ts) moves every byte of every
 * intercepted exchange, so it is tested with real clients on bulk data: bytes arrive intact both ways
 * (large request bodies up, large responses down), many tunnels at once do not mix, and a client that reads
 * slowly holds the upstream back instead of making the proxy buffer the whole response (curl here: Bun's
 * fetch client reads a whole body ahead of its reader, so it cannot show backpressure).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { EgressProxy, RunHandle } from "../../src/proxy/proxy.ts";
import { bottleCa, curl, testProxy, unixBridge, upstreamCa } from "../support/proxy-fixture.ts";

const MB = 1024 * 1024;
let upstream: ReturnType<typeof Bun.serve>;
let proxy: EgressProxy;
let run: RunHandle;
/** Bytes the upstream has handed to its socket for the current /stream response. */
let produced = 0;

/** Deterministic bytes: block i of a stream is the same whoever asks. */
function block(i: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let j = 0; j < size; j += 4) b[j] = (i * 31 + j) & 0xff;
  return b;
}

beforeAll(async () => {
  const leaf = upstreamCa().leaves.issue("127.0.0.1");
  upstream = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: leaf.certPem, key: leaf.keyPem },
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      if (url.pathname === "/echo-hash") {
        const body = new Uint8Array(await req.arrayBuffer());
        return new Response(`${body.byteLength} ${createHash("sha256").update(body).digest("hex")}`);
      }
      const total = Number(url.searchParams.get("mb")) * MB;
      produced = 0;
      let i = 0;
      return new Response(
        new ReadableStream<Uint8Array>({
          pull(c) {
            if (produced >= total) return c.close();
            const b = block(i++, 64 * 1024);
            produced += b.byteLength;
            c.enqueue(b);
          },
        }, { highWaterMark: 0 }),
        { headers: { "content-type": "application/octet-stream" } },
      );
    },
  });
  proxy = testProxy();
  run = await proxy.openRun({ runId: "run-relay", routes: [{ host: "api.anthropic.com", upstream: `https://127.0.0.1:${upstream.port}` }] });
});

afterAll(async () => {
  await run.close();
  await proxy.close();
  upstream.stop(true);
});

function expectedHash(mb: number): string {
  const h = createHash("sha256");
  for (let i = 0; i < (mb * MB) / (64 * 1024); i++) h.update(block(i, 64 * 1024));
  return h.digest("hex");
}

const caFile = () => {
  const f = join(process.env.TMPDIR!, "relay-bottle-ca.pem");
  writeFileSync(f, bottleCa().certPem);
  return f;
};

describe("the relay into the TLS listener", () => {
  test("a 12 MB request body and a 24 MB response cross intact (real curl)", async () => {
    const body = randomBytes(12 * MB);
    const file = join(process.env.TMPDIR!, "relay-body.bin");
    writeFileSync(file, body);
    const ca = caFile();
    const up = await curl(["--proxy", run.proxyUrl!, "--cacert", ca, "--data-binary", `@${file}`, "-H", "content-type: application/octet-stream", "https://api.anthropic.com/echo-hash"], 60_000);
    expect(up.stderr).toBe("");
    expect(up.stdout).toBe(`${body.byteLength} ${createHash("sha256").update(body).digest("hex")}`);
    const out = join(process.env.TMPDIR!, "relay-out.bin");
    const down = await curl(["--proxy", run.proxyUrl!, "--cacert", ca, "-o", out, "https://api.anthropic.com/stream?mb=24"], 60_000);
    expect(down.code).toBe(0);
    expect(createHash("sha256").update(new Uint8Array(await Bun.file(out).arrayBuffer())).digest("hex")).toBe(expectedHash(24));
  });

  test("a 24 MB response read at 10 MB/s crosses intact (every buffer on the way fills and drains)", async () => {
    const out = join(process.env.TMPDIR!, "relay-slow.bin");
    const down = await curl(["--proxy", run.proxyUrl!, "--cacert", caFile(), "--limit-rate", "10M", "-o", out, "https://api.anthropic.com/stream?mb=24"], 60_000);
    expect(down.code).toBe(0);
    expect(createHash("sha256").update(new Uint8Array(await Bun.file(out).arrayBuffer())).digest("hex")).toBe(expectedHash(24));
  });

  test("a 24 MB response crosses intact through the unix socket (how a bottle's bridge reaches the proxy)", async () => {
    const bridge = await unixBridge(run.socketPath);
    try {
      const out = join(process.env.TMPDIR!, "relay-unix.bin");
      const down = await curl(["--proxy", `http://127.0.0.1:${bridge.port}`, "--cacert", caFile(), "-o", out, "https://api.anthropic.com/stream?mb=24"], 60_000);
      expect(down.code).toBe(0);
      expect(createHash("sha256").update(new Uint8Array(await Bun.file(out).arrayBuffer())).digest("hex")).toBe(expectedHash(24));
    } finally {
      bridge.close();
    }
  });

  test("20 tunnels at once each get their own bytes", async () => {
    const want = expectedHash(2);
    const got = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const res = await fetch("https://api.anthropic.com/stream?mb=2", { proxy: run.proxyUrl, tls: { ca: bottleCa().certPem }, keepalive: false } as RequestInit);
        return createHash("sha256").update(new Uint8Array(await res.arrayBuffer())).digest("hex");
      }),
    );
    expect(got).toEqual(Array.from({ length: 20 }, () => want));
  });

  test("a client that reads slowly holds the upstream back: the proxy does not buffer the response", async () => {
    // curl reads at 1 MB/s and gives up after 4 s: it takes about 4 MB of a 256 MB response.
    const slow = curl(["--proxy", run.proxyUrl!, "--cacert", caFile(), "--limit-rate", "1M", "-o", "/dev/null", "https://api.anthropic.com/stream?mb=256"], 4000);
    await slow;
    expect(produced).toBeLessThan(128 * MB);
  });
});
