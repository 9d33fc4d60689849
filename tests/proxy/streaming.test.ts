import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { AuditRecord } from "../../src/proxy/hooks.ts";
import type { EgressProxy, RunHandle } from "../../src/proxy/proxy.ts";
import type { Simulator } from "../../src/simulator/server.ts";
import { bottleCa, curl, startTlsSimulator, testProxy } from "../support/proxy-fixture.ts";

let sim: Simulator;
let proxy: EgressProxy;
let run: RunHandle;
const audits: AuditRecord[] = [];
const aborts: { id: string; reason: string }[] = [];
const ends: string[] = [];
const hookBytes = new Map<string, string>();

beforeAll(async () => {
  sim = startTlsSimulator();
  proxy = testProxy({
    hooks: {
      onResponseChunk(ctx, chunk) {
        hookBytes.set(ctx.id, (hookBytes.get(ctx.id) ?? "") + new TextDecoder().decode(chunk));
      },
      onResponseEnd: (ctx) => void ends.push(ctx.id),
      onAbort: (ctx, reason) => void aborts.push({ id: ctx.id, reason }),
      onAudit: (r) => void audits.push(r),
    },
  });
  run = await proxy.openRun({ runId: "run-stream", log: "full", routes: [{ host: "api.anthropic.com", upstream: sim.url }, { host: "api.openai.com", upstream: sim.url }] });
});

afterAll(async () => {
  await run.close();
  await proxy.close();
  await sim.close();
});

const request = (o: Record<string, unknown> = {}) => JSON.stringify({ model: "m", max_tokens: 64, messages: [{ role: "user", content: "hi" }], ...o });
function post(path: string, body: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`https://api.anthropic.com${path}`, { method: "POST", body, headers: { "content-type": "application/json" }, proxy: run.proxyUrl, tls: { ca: bottleCa().certPem }, ...(signal ? { signal } : {}) } as RequestInit);
}
async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await Bun.sleep(10);
}
const countEvents = (s: string) => s.split("\n\n").length - 1;

describe("streaming passthrough", () => {
  for (const compression of [undefined, "gzip"] as const) test(`SSE events 200 ms apart reach the client one by one${compression ? ` (upstream ${compression})` : ""}: each arrives before the upstream sends the next`, async () => {
    let received = "";
    let timedOutGates = 0;
    const log: string[] = [];
    sim.set({
      text: "one two three four five",
      chunkDelayMs: 200,
      compression,
      // The upstream holds event i until the client has seen event i-1 (or 5 s pass, which fails the test).
      beforeEvent: async (i) => {
        if (i > 0) {
          const end = Date.now() + 5000;
          while (countEvents(received) < i && Date.now() < end) await Bun.sleep(5);
          if (countEvents(received) < i) timedOutGates++;
        }
        log.push(`send ${i}`);
      },
    });
    try {
      const res = await post("/v1/messages", request({ stream: true }));
      expect(res.headers.get("content-type")).toStartWith("text/event-stream");
      const reader = res.body!.getReader();
      const dec = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const before = countEvents(received);
        received += dec.decode(value, { stream: true });
        for (let k = before; k < countEvents(received); k++) log.push(`recv ${k}`);
      }
    } finally {
      sim.set({ chunkDelayMs: 0, beforeEvent: undefined, compression: undefined, text: "Hello from the bottle simulator." });
    }
    const total = countEvents(received);
    expect(total).toBe(11);
    expect(timedOutGates).toBe(0);
    for (let k = 0; k + 1 < total; k++) expect(log.indexOf(`recv ${k}`)).toBeLessThan(log.indexOf(`send ${k + 1}`));
    expect(received).toEndWith('data: {"type":"message_stop"}\n\n');
  });

  test("a client that disconnects mid-stream triggers onAbort(client), and the proxy keeps serving", async () => {
    sim.set({ text: Array.from({ length: 40 }, (_, i) => `w${i}`).join(" "), chunkDelayMs: 50 });
    const ac = new AbortController();
    const abortsBefore = aborts.length;
    try {
      const res = await post("/v1/messages", request({ stream: true }), ac.signal);
      const reader = res.body!.getReader();
      await reader.read();
      ac.abort();
      await reader.read().catch(() => {});
      await waitFor(() => aborts.length > abortsBefore);
      expect(aborts.slice(abortsBefore).map((a) => a.reason)).toEqual(["client"]);
      await waitFor(() => audits.some((a) => a.reason === "client disconnected"));
      expect(audits.find((a) => a.reason === "client disconnected")).toMatchObject({ decision: "mitm", status: 200, path: "/v1/messages" });
    } finally {
      sim.set({ text: "Hello from the bottle simulator.", chunkDelayMs: 0 });
    }
    const again = await post("/v1/messages", request());
    expect(((await again.json()) as { content: { text: string }[] }).content[0]!.text).toBe("Hello from the bottle simulator.");
  });

  test("an upstream that cuts the stream triggers onAbort(upstream) and an error audit; the client sees a broken body", async () => {
    sim.set({ cutAfterEvents: 4 });
    const abortsBefore = aborts.length;
    try {
      const r = await curl(["--proxy", run.proxyUrl!, "--cacert", bottleCa().certPath, "-d", request({ stream: true }), "https://api.anthropic.com/v1/messages"]);
      expect(r.code).not.toBe(0);
      expect(r.stdout).toStartWith("event: message_start");
      expect(r.stdout).not.toContain("message_stop");
      await waitFor(() => aborts.length > abortsBefore);
      expect(aborts.slice(abortsBefore).map((a) => a.reason)).toEqual(["upstream"]);
      expect(audits.at(-1)).toMatchObject({ decision: "error", reason: expect.stringContaining("stream cut: ") });
    } finally {
      sim.set({ cutAfterEvents: undefined });
    }
  });
});

describe("compressed upstream responses", () => {
  for (const kind of ["gzip", "br", "deflate"] as const) {
    test(`${kind}: JSON and SSE arrive intact, without a stale content-encoding, and hooks see plain bytes`, async () => {
      sim.set({ compression: kind, text: `compressed with ${kind}` });
      try {
        const json = await curl(["-i", "--proxy", run.proxyUrl!, "--cacert", bottleCa().certPath, "-d", request(), "https://api.anthropic.com/v1/messages"]);
        expect(json.code).toBe(0);
        const [head, payload] = json.stdout.split("\r\n\r\n").slice(-2) as [string, string];
        expect(head.toLowerCase()).not.toContain("content-encoding");
        expect(JSON.parse(payload).content[0].text).toBe(`compressed with ${kind}`);
        const withCompressed = await curl(["--compressed", "--proxy", run.proxyUrl!, "--cacert", bottleCa().certPath, "-d", request(), "https://api.anthropic.com/v1/messages"]);
        expect(JSON.parse(withCompressed.stdout).content[0].text).toBe(`compressed with ${kind}`);
        const endsBefore = ends.length;
        const res = await post("/v1/messages", request({ stream: true }));
        expect(res.headers.get("content-encoding")).toBeNull();
        const text = await res.text();
        expect(text).toContain(`"text":"${kind}"`);
        expect(text).toEndWith('data: {"type":"message_stop"}\n\n');
        await waitFor(() => ends.length > endsBefore);
        expect(hookBytes.get(ends.at(-1)!)).toBe(text);
      } finally {
        sim.set({ compression: undefined, text: "Hello from the bottle simulator." });
      }
    });
  }
});
