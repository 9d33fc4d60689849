/**
 * The fleet-mode benchmark: what a shared PostgreSQL ledger costs beside the default SQLite file, measured
 * in the same run so the two face the same machine load.
 *
 * (1) Admission + charge per second at 1, 4 and 16 concurrent writers (processes, each standing in for a
 *     proxy; bench/ledger/fleet-writer.ts), every round an admission against a global budget through the
 *     real budget store and a charged usage row. SQLite writers share one file; Postgres writers one
 *     database on the loopback cluster of scripts/start-postgres.sh. A fresh ledger per cell; the cells are
 *     interleaved (sqlite, postgres at each writer count, three rounds) and the median round is reported.
 * (2) The latency a request gains through the real `bottle proxy --upstream` with a global budget in
 *     settings.yml when its ledger is the fleet database instead of the SQLite file: both proxies run at
 *     once against one loopback TLS upstream, the client alternates between them (sqlite, fleet, fleet,
 *     sqlite, twice over), streamed Anthropic Messages calls at 1 and 10 streams.
 *
 * Run: bun bench/ledger/fleet.ts [--quick]   → bench/results/fleet.json and the fleet section of docs/benchmarks.md
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { FileSink, Subprocess } from "bun";
import { loadOrCreateCa } from "../../src/ca/authority.ts";
import { summarize } from "../proxy/report.ts";
import { renderFleetMarkdown, type FleetLatency, type FleetThroughput } from "./fleet-report.ts";
import { publishBench } from "../publish.ts";
import { stdoutLines as lines } from "../proxy/proc.ts";

const root = join(import.meta.dir, "../..");
const quick = process.argv.includes("--quick");
const work = mkdtempSync(join(tmpdir(), "bottle-bench-fleet-"));
const env: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/_proxy$/i.test(k) && k !== "NODE_EXTRA_CA_CERTS" && k !== "BOTTLE_LEDGER_URL") env[k] = v;
const procs: Subprocess[] = [];
const databases: string[] = [];

const sh = (cmd: string[]): string => {
  const r = Bun.spawnSync(cmd, { cwd: root, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed: ${r.stderr.toString()}`);
  return r.stdout.toString().trim();
};
const server = sh(["bash", join(root, "scripts/start-postgres.sh")]).split("\n").at(-1)!;
const psql = (statement: string) => sh(["psql", server, "-v", "ON_ERROR_STOP=1", "-qAtc", statement]);

function freshDatabase(): string {
  const name = `bottle_bench_${process.pid}_${databases.length}`;
  psql(`create database ${name}`);
  databases.push(name);
  const u = new URL(server);
  u.pathname = `/${name}`;
  return u.toString();
}

type Dialect = "sqlite" | "postgres";

/** One cell: `writers` processes, `total` admission+charge rounds between them, on a fresh ledger. */
async function cell(dialect: Dialect, writers: number, total: number): Promise<number> {
  const ledger = dialect === "sqlite" ? join(mkdtempSync(join(work, "tp-")), "bottle.db") : freshDatabase();
  const per = Math.ceil(total / writers);
  const ps = Array.from({ length: writers }, () => Bun.spawn(["bun", join(import.meta.dir, "fleet-writer.ts"), ledger, String(per)], { env, stdin: "pipe", stdout: "pipe", stderr: "inherit" }));
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
  await Promise.all(ps.map((p) => p.exited));
  return ((per * writers) / wallMs) * 1000;
}

async function startProxy(home: string, upPort: number, upstreamCaFile: string, ledgerUrl?: string): Promise<{ proc: Subprocess; url: string }> {
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, "settings.yml"), "budget:\n  claude: { tokens: 1000000000000, per: month }\n");
  const p = Bun.spawn(["bun", join(root, "src/cli/main.ts"), "proxy", "--provider", "claude", "--upstream", `https://127.0.0.1:${upPort}`, "--json", "--log", "blocks"], {
    env: { ...env, BOTTLE_HOME: home, HOME: join(work, "home"), NODE_EXTRA_CA_CERTS: upstreamCaFile, ...(ledgerUrl ? { BOTTLE_LEDGER_URL: ledgerUrl } : {}) },
    stdout: "pipe",
    stderr: "inherit",
  });
  procs.push(p);
  const info = JSON.parse(await lines(p)()) as { env: Record<string, string> };
  return { proc: p, url: info.env.HTTPS_PROXY! };
}

try {
  const started = performance.now();
  const total = quick ? 200 : 1600;
  const counts = [1, 4, 16];
  const samples: Record<string, number[]> = {};
  for (let round = 0; round < (quick ? 1 : 3); round++) {
    for (const w of counts) {
      for (const d of ["sqlite", "postgres"] as const) {
        const r = await cell(d, w, total);
        (samples[`${d}:${w}`] ??= []).push(r);
        console.error(`round ${round + 1}  ${d.padEnd(8)} ${String(w).padStart(2)} writers  ${Math.round(r)} admissions+charges/s`);
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const throughput: FleetThroughput[] = counts.map((w) => ({ writers: w, total, sqlite: median(samples[`sqlite:${w}`]!), postgres: median(samples[`postgres:${w}`]!), rounds: { sqlite: samples[`sqlite:${w}`]!, postgres: samples[`postgres:${w}`]! } }));

  const upstreamCaDir = join(work, "upstream-ca");
  const upstreamCaFile = join(work, "upstream-ca.pem");
  writeFileSync(upstreamCaFile, loadOrCreateCa(upstreamCaDir).certPem);
  const up = Bun.spawn(["bun", join(root, "bench/proxy/upstream.ts"), upstreamCaDir, "30"], { env, stdout: "pipe", stderr: "inherit" });
  procs.push(up);
  const { port } = JSON.parse(await lines(up)()) as { port: number };
  const fleetUrl = freshDatabase();
  const proxies = {
    sqlite: await startProxy(join(work, "home-sqlite"), port, upstreamCaFile),
    postgres: await startProxy(join(work, "home-fleet"), port, upstreamCaFile, fleetUrl),
  };
  const ca = [loadOrCreateCa(upstreamCaDir).certPem, loadOrCreateCa(join(work, "home-sqlite", "ca")).certPem, loadOrCreateCa(join(work, "home-fleet", "ca")).certPem];
  const latency: FleetLatency[] = [];
  for (const concurrency of [1, 10]) {
    const requests = quick ? 40 : concurrency === 1 ? 400 : 800;
    const got = { sqlite: [] as number[], postgres: [] as number[] };
    let errors = 0;
    const order = ["sqlite", "postgres", "postgres", "sqlite"] as const;
    for (const which of quick ? order : [...order, ...order]) {
      const spec = JSON.stringify({ url: "https://api.anthropic.com/v1/messages", proxy: proxies[which].url, workload: "sse", concurrency, requests: requests / (quick ? 2 : 4), keepAlive: true, ca, tolerateErrors: true });
      const p = Bun.spawn(["bun", join(root, "bench/proxy/client.ts"), spec], { env, stdout: "pipe", stderr: "inherit" });
      const out = await new Response(p.stdout).text();
      if ((await p.exited) !== 0) throw new Error(`client failed (${which}, c=${concurrency})`);
      const r = JSON.parse(out) as { total: number[]; errors?: number };
      got[which].push(...r.total);
      errors += r.errors ?? 0;
    }
    const l: FleetLatency = { concurrency, requests, sqlite: summarize(got.sqlite), postgres: summarize(got.postgres), errors };
    latency.push(l);
    console.error(`c=${concurrency}  sqlite p50 ${l.sqlite.p50.toFixed(2)} p99 ${l.sqlite.p99.toFixed(2)}   fleet p50 ${l.postgres.p50.toFixed(2)} p99 ${l.postgres.p99.toFixed(2)} ms`);
  }
  for (const p of Object.values(proxies)) {
    p.proc.kill("SIGTERM");
    await p.proc.exited;
  }
  // The fleet proxy really wrote to Postgres: its usage rows, counted there.
  const fleetRows = Number(sh(["psql", fleetUrl, "-qAtc", "select count(*) from usage_events"]));
  const meta = { fleetRows, date: new Date().toISOString(), bun: Bun.version, cpus: navigator.hardwareConcurrency, loadAvg: loadavg().map((x) => Number(x.toFixed(2))), quick, durationS: Math.round((performance.now() - started) / 1000) };
  const section = renderFleetMarkdown(meta, throughput, latency);
  if (!quick) {
    publishBench(root, { results: "fleet.json", data: { meta, throughput, latency }, marker: "fleet", section });
  }
  console.log(section);
} finally {
  for (const p of procs) if (p.exitCode === null) p.kill();
  for (const d of databases) {
    try {
      psql(`drop database if exists ${d} with (force)`);
    } catch {
      // the cluster is gone; nothing to drop
    }
  }
  rmSync(work, { recursive: true, force: true });
}
