/**
 * The proxy benchmark: what bottle's proxy adds to a streamed model call, as ratios against baselines
 * measured in the same run (absolute numbers depend on the machine; ratios travel). Four setups: direct to
 * the simulated upstream; through a plain TCP relay (a CONNECT proxy that only pipes bytes); bottle
 * tunneling (`mitm: false`); bottle intercepting with the real metering hooks on. Each at 1, 10 and 100
 * concurrent streams, with keep-alive and with a new connection per request. Upstream, proxies and client
 * are separate processes.
 *
 * Run: bun bench/proxy/run.ts [--quick]   → bench/results/proxy.json and the proxy section of docs/benchmarks.md
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateCa } from "../../src/ca/authority.ts";
import { renderMarkdown, summarize, type CellResult } from "./report.ts";

const root = join(import.meta.dir, "../..");
const quick = process.argv.includes("--quick");
const work = mkdtempSync(join(tmpdir(), "bottle-bench-proxy-"));
const upstreamCaDir = join(work, "upstream-ca");
const bottleCaDir = join(work, "bottle-ca");
const ca = [loadOrCreateCa(upstreamCaDir).certPem, loadOrCreateCa(bottleCaDir).certPem];
const env: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/_proxy$/i.test(k)) env[k] = v;

const procs: ReturnType<typeof Bun.spawn>[] = [];
async function serve(args: string[]): Promise<Record<string, string | number>> {
  const p = Bun.spawn(["bun", join(import.meta.dir, "servers.ts"), ...args], { env, stdout: "pipe", stderr: "inherit" });
  procs.push(p);
  const reader = (p.stdout as ReadableStream<Uint8Array>).getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`servers.ts ${args[0]} exited early`);
    line += new TextDecoder().decode(value);
  }
  return JSON.parse(line) as Record<string, string | number>;
}

async function cell(setup: string, url: string, proxy: string | undefined, concurrency: number, keepAlive: boolean): Promise<CellResult> {
  const requests = quick ? concurrency * 2 + 20 : concurrency === 1 ? 400 : concurrency === 10 ? 1000 : 2000;
  const spec = JSON.stringify({ url, ...(proxy ? { proxy } : {}), concurrency, requests, keepAlive, ca });
  const p = Bun.spawn(["bun", join(import.meta.dir, "client.ts"), spec], { env, stdout: "pipe", stderr: "inherit" });
  const out = await new Response(p.stdout).text();
  if ((await p.exited) !== 0) throw new Error(`client failed for ${setup} c=${concurrency}`);
  const { ttfb, total, wallMs } = JSON.parse(out) as { ttfb: number[]; total: number[]; wallMs: number };
  return { setup, concurrency, keepAlive, requests, wallMs, ttfb: summarize(ttfb), total: summarize(total) };
}

try {
  const up = await serve(["upstream", upstreamCaDir, bottleCaDir]);
  const px = await serve(["proxies", upstreamCaDir, bottleCaDir, String(up.port)]);
  const direct = `https://127.0.0.1:${up.port}/v1/messages`;
  const setups: [string, string, string | undefined][] = [
    ["direct", direct, undefined],
    ["tcp relay", direct, px.relay as string],
    ["bottle tunnel", direct, px.tunnel as string],
    ["bottle MITM + metering", "https://api.anthropic.com/v1/messages", px.mitm as string],
  ];
  const results: CellResult[] = [];
  const started = performance.now();
  for (const keepAlive of [true, false]) {
    for (const concurrency of [1, 10, 100]) {
      for (const [name, url, proxy] of setups) {
        const r = await cell(name, url, proxy, concurrency, keepAlive);
        results.push(r);
        console.error(`${name.padEnd(24)} c=${String(concurrency).padStart(3)} ${keepAlive ? "keep-alive" : "new conn  "} p50 ${r.total.p50.toFixed(2)} ms  p99 ${r.total.p99.toFixed(2)} ms  ttfb p50 ${r.ttfb.p50.toFixed(2)} ms`);
      }
    }
  }
  const meta = { date: new Date().toISOString(), bun: Bun.version, cpus: navigator.hardwareConcurrency, quick, durationS: Math.round((performance.now() - started) / 1000) };
  if (!quick) {
    mkdirSync(join(root, "bench/results"), { recursive: true });
    writeFileSync(join(root, "bench/results/proxy.json"), `${JSON.stringify({ meta, results }, null, 2)}\n`);
    const docPath = join(root, "docs/benchmarks.md");
    let doc = "";
    try {
      doc = readFileSync(docPath, "utf8");
    } catch {
      doc = "# Benchmarks\n\nEach benchmark reports ratios against a baseline measured in the same run, because absolute numbers depend on the machine.\n";
    }
    const section = renderMarkdown(meta, results);
    const start = doc.indexOf("<!-- proxy-bench:start -->");
    const end = doc.indexOf("<!-- proxy-bench:end -->");
    doc = start >= 0 && end > start ? `${doc.slice(0, start)}${section}${doc.slice(end + "<!-- proxy-bench:end -->".length)}` : `${doc.trimEnd()}\n\n${section}\n`;
    writeFileSync(docPath, doc);
  }
  console.log(renderMarkdown(meta, results));
} finally {
  for (const p of procs) p.kill();
  rmSync(work, { recursive: true, force: true });
}
