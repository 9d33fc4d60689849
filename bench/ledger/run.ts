/**
 * The ledger benchmark. (1) Usage events per second into one ledger file: one process and four processes
 * at once, each event its own transaction, and through the proxy's queued writer. (2) What recording adds
 * to a metered SSE request: p50/p99 with the ledger on versus off in the same proxy process, as ratios.
 *
 * Run: bun bench/ledger/run.ts [--quick]   → bench/results/ledger.json and the ledger section of docs/benchmarks.md
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { FileSink, Subprocess } from "bun";
import { loadOrCreateCa } from "../../src/ca/authority.ts";
import { summarize } from "../proxy/report.ts";
import { renderLedgerMarkdown, type LatencyResult, type ThroughputResult } from "./report.ts";
import { publishBench } from "../publish.ts";
import { stdoutLines as lines } from "../proxy/proc.ts";

const root = join(import.meta.dir, "../..");
const quick = process.argv.includes("--quick");
const work = mkdtempSync(join(tmpdir(), "bottle-bench-ledger-"));
const env: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/_proxy$/i.test(k)) env[k] = v;
const procs: Subprocess[] = [];

/** The median of three rounds (this machine is shared; one round can be unlucky). */
async function writers(setup: string, processes: number, perProcess: number, mode: "tx" | "queued"): Promise<ThroughputResult> {
  const rounds = [];
  for (let i = 0; i < (quick ? 1 : 3); i++) rounds.push(await writersOnce(setup, processes, perProcess, mode));
  rounds.sort((a, b) => a.perSecond - b.perSecond);
  const r = rounds[Math.floor(rounds.length / 2)]!;
  console.error(`${setup.padEnd(14)} ${processes} proc  ${r.events} events  median ${Math.round(r.perSecond)} events/s (rounds: ${rounds.map((x) => Math.round(x.perSecond)).join(", ")})`);
  return r;
}

async function writersOnce(setup: string, processes: number, perProcess: number, mode: "tx" | "queued"): Promise<ThroughputResult> {
  const file = join(mkdtempSync(join(work, "tp-")), "bottle.db");
  const ps = Array.from({ length: processes }, (_, i) => Bun.spawn(["bun", join(import.meta.dir, "writer.ts"), file, `w${i}`, String(perProcess), mode], { env, stdin: "pipe", stdout: "pipe", stderr: "inherit" }));
  procs.push(...ps);
  const ls = ps.map(lines);
  await Promise.all(ls.map((l) => l()));
  const t0 = performance.now();
  for (const p of ps) {
    (p.stdin as FileSink).write("go\n");
    (p.stdin as FileSink).end();
  }
  await Promise.all(ls.map((l) => l()));
  const wallMs = performance.now() - t0;
  const events = processes * perProcess;
  return { setup, processes, events, wallMs, perSecond: (events / wallMs) * 1000 };
}

async function latencyCell(urls: { off: string; on: string }, ca: string[], concurrency: number): Promise<LatencyResult & { sent: number }> {
  const requests = quick ? concurrency * 2 + 20 : concurrency === 1 ? 400 : 1200;
  const samples = { off: { total: [] as number[], ttfb: [] as number[] }, on: { total: [] as number[], ttfb: [] as number[] } };
  let sent = 0;
  const order = ["off", "on", "on", "off"] as const;
  for (const which of quick ? order : [...order, ...order]) {
    const spec = JSON.stringify({ url: "https://api.anthropic.com/v1/messages", proxy: urls[which], workload: "sse", concurrency, requests: requests / (quick ? 2 : 4), keepAlive: true, ca });
    const p = Bun.spawn(["bun", join(root, "bench/proxy/client.ts"), spec], { env, stdout: "pipe", stderr: "inherit" });
    const out = await new Response(p.stdout).text();
    if ((await p.exited) !== 0) throw new Error(`client failed (${which}, c=${concurrency})`);
    const r = JSON.parse(out) as { ttfb: number[]; total: number[] };
    samples[which].total.push(...r.total);
    samples[which].ttfb.push(...r.ttfb);
    // The client warms up with min(c, 10) requests besides the measured ones; all of them are metered.
    if (which === "on") sent += r.total.length + Math.min(concurrency, 10);
  }
  const cell = { concurrency, requests, off: { total: summarize(samples.off.total), ttfb: summarize(samples.off.ttfb) }, on: { total: summarize(samples.on.total), ttfb: summarize(samples.on.ttfb) }, sent };
  console.error(`c=${String(concurrency).padStart(3)}  off p50 ${cell.off.total.p50.toFixed(2)} p99 ${cell.off.total.p99.toFixed(2)}   on p50 ${cell.on.total.p50.toFixed(2)} p99 ${cell.on.total.p99.toFixed(2)} ms`);
  return cell;
}

try {
  const started = performance.now();
  const n = quick ? 200 : 5000;
  const throughput = [
    await writers("tx per event", 1, n, "tx"),
    await writers("tx per event", 4, n, "tx"),
    await writers("queued", 1, n * 4, "queued"),
    await writers("queued", 4, n * 4, "queued"),
  ];

  const upstreamCaDir = join(work, "upstream-ca");
  const bottleCaDir = join(work, "bottle-ca");
  const ca = [loadOrCreateCa(upstreamCaDir).certPem, loadOrCreateCa(bottleCaDir).certPem];
  const up = Bun.spawn(["bun", join(root, "bench/proxy/upstream.ts"), upstreamCaDir, "30"], { env, stdout: "pipe", stderr: "inherit" });
  procs.push(up);
  const { port } = JSON.parse(await lines(up)()) as { port: number };
  const px = Bun.spawn(["bun", join(import.meta.dir, "proxy.ts"), upstreamCaDir, bottleCaDir, String(port), join(work, "latency.db")], { env, stdout: "pipe", stderr: "inherit" });
  procs.push(px);
  const pxLine = lines(px);
  const urls = JSON.parse(await pxLine()) as { off: string; on: string };
  const latency: LatencyResult[] = [];
  let expected = 0;
  for (const c of [1, 10, 50]) {
    const { sent, ...cell } = await latencyCell(urls, ca, c);
    latency.push(cell);
    expected += sent;
  }
  px.kill("SIGTERM");
  const recorded = JSON.parse(await pxLine()) as { rows: number; busyRetries: number; failed: number };
  const meta = { date: new Date().toISOString(), bun: Bun.version, cpus: navigator.hardwareConcurrency, loadAvg: loadavg().map((x) => Number(x.toFixed(2))), quick, durationS: Math.round((performance.now() - started) / 1000) };
  const rows = { expected, recorded: recorded.rows };
  const section = renderLedgerMarkdown(meta, throughput, latency, rows);
  if (!quick) {
    publishBench(root, { results: "ledger.json", data: { meta, throughput, latency, rows, writer: recorded }, marker: "ledger", section });
  }
  console.log(section);
} finally {
  for (const p of procs) if (p.exitCode === null) p.kill();
  rmSync(work, { recursive: true, force: true });
}
