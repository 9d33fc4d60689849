/**
 * The budget benchmark: what admission costs as the ledger grows, with the budget hooks `bottle run` and
 * `bottle proxy` really install, against the code from before running totals, measured in the same run.
 *
 * Both versions run from their own checkout: "after" is this tree, "before" a git worktree of the baseline
 * commit (default: the parent of the commit that added running totals), installed with its own lockfile.
 * For each ledger size of the ladder (0, 100k and 1M usage rows, all inside the current month) one seeded
 * file is copied for each version, with a global monthly claude budget in settings.yml. Per version:
 *
 * - admission alone, in process (bench/ledger/admit-loop.ts): p50/p99 of admit() with pre-flight off, and
 *   of admit()+settle() with pre-flight estimate (a reservation written and released); the better of two
 *   rounds;
 * - the real `bottle proxy --upstream` of that version, a loopback TLS upstream with a 30-word streamed
 *   reply, and the benchmark client: c=1 latency (p50) and c=50 throughput (requests/s);
 * - idle CPU of that proxy process after the load, over 30 s, as a percentage of one core.
 *
 * Goals (docs/benchmarks.md): admission at 1M rows within 1.2x of an empty ledger; c=50 throughput with
 * budgets at least 2x the baseline's; idle CPU under 0.05 % of a core.
 *
 * Run: bun bench/ledger/budgets.ts [--quick] [--baseline <commit>]
 *   → bench/results/budgets.json and the budget section of docs/benchmarks.md (not with --quick)
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateCa } from "../../src/ca/authority.ts";
import { cpuMs, startReady } from "../proxy/proc.ts";
import { summarize } from "../proxy/report.ts";
import { publishBench } from "../publish.ts";

const root = join(import.meta.dir, "../..");
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const sh = (cmd: string[], cwd = root): string => {
  const r = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed: ${r.stderr.toString()}`);
  return r.stdout.toString().trim();
};
const introduced = sh(["git", "log", "--diff-filter=A", "--format=%H", "--", "src/ledger/migrations/0003-budget-totals.ts"]).split("\n").at(-1)!;
const baselineCommit = sh(["git", "rev-parse", opt("--baseline") ?? `${introduced}^`]);
const work = mkdtempSync(join(tmpdir(), "bottle-bench-budgets-"));
const env: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/_proxy$/i.test(k) && k !== "NODE_EXTRA_CA_CERTS") env[k] = v;
const procs: ReturnType<typeof Bun.spawn>[] = [];

const start = (cmd: string[], extraEnv: Record<string, string> = {}) => startReady(cmd, { ...env, ...extraEnv }, { track: procs });

async function json<T>(cmd: string[]): Promise<T> {
  const p = Bun.spawn(cmd, { env, stdout: "pipe", stderr: "inherit" });
  const out = await new Response(p.stdout).text();
  if ((await p.exited) !== 0) throw new Error(`${cmd.join(" ")} failed`);
  return JSON.parse(out.trim().split("\n").at(-1)!) as T;
}

interface VersionResult {
  version: "before" | "after";
  rows: number;
  admit: { off: { p50: number; p99: number }; estimate: { p50: number; p99: number } };
  c1: { p50: number; p99: number; rps: number; errors: number };
  c50: { p50: number; p99: number; rps: number; errors: number };
  idleCpuPct: number;
}

const baseDir = join(work, "base");
try {
  const started = performance.now();
  sh(["git", "worktree", "add", "--detach", baseDir, baselineCommit]);
  sh(["bun", "install", "--frozen-lockfile"], baseDir);
  const versions = [
    { version: "before" as const, root: baseDir },
    { version: "after" as const, root },
  ];
  const upstreamCaDir = join(work, "upstream-ca");
  const upstreamCaFile = join(work, "upstream-ca.pem");
  writeFileSync(upstreamCaFile, loadOrCreateCa(upstreamCaDir).certPem);
  const up = await start(["bun", join(root, "bench/proxy/upstream.ts"), upstreamCaDir, "30"]);
  const upPort = up.info.port as number;
  const ladder = quick ? [0, 20_000] : [0, 100_000, 1_000_000];
  const results: VersionResult[] = [];
  const loads: number[] = [loadavg()[0]!];

  for (const rows of ladder) {
    const seed = join(work, `seed-${rows}.db`);
    await json(["bun", join(root, "bench/ledger/seed.ts"), baseDir, seed, String(rows)]);
    const big = rows >= 1_000_000;
    for (const v of versions) {
      const home = join(work, `home-${v.version}-${rows}`);
      mkdirSync(home, { recursive: true });
      copyFileSync(seed, join(home, "bottle.db"));
      writeFileSync(join(home, "settings.yml"), "budget:\n  claude: { tokens: 1000000000000, per: month }\n");
      // The baseline takes seconds per admission at 1M rows: fewer samples there. Two rounds, the better
      // p50 of each mode kept (the machine is shared; one round can be unlucky).
      const n = quick ? 20 : v.version === "after" ? 200 : big ? 8 : rows > 0 ? 40 : 200;
      const admitRounds: Array<VersionResult["admit"]> = [];
      for (let i = 0; i < (quick ? 1 : 2); i++) admitRounds.push(await json<VersionResult["admit"]>(["bun", join(root, "bench/ledger/admit-loop.ts"), v.root, join(home, "bottle.db"), String(n)]));
      const best = (k: "off" | "estimate") => admitRounds.map((r) => r[k]).sort((a, b) => a.p50 - b.p50)[0]!;
      const admit = { off: best("off"), estimate: best("estimate") };

      const bottleCa = loadOrCreateCa(join(home, "ca"));
      const ca = [loadOrCreateCa(upstreamCaDir).certPem, bottleCa.certPem];
      const px = await start(["bun", join(v.root, "src/cli/main.ts"), "proxy", "--provider", "claude", "--upstream", `https://127.0.0.1:${upPort}`, "--json", "--log", "blocks"], {
        BOTTLE_HOME: home,
        HOME: join(work, "home"),
        NODE_EXTRA_CA_CERTS: upstreamCaFile,
      });
      const proxyUrl = (px.info.env as Record<string, string>).HTTPS_PROXY!;
      const cell = async (concurrency: number, requests: number) => {
        const spec = JSON.stringify({ url: "https://api.anthropic.com/v1/messages", proxy: proxyUrl, workload: "sse", concurrency, requests, keepAlive: true, ca, tolerateErrors: true });
        const r = await json<{ total: number[]; errors: number; wallMs: number }>(["bun", join(root, "bench/proxy/client.ts"), spec]);
        const s = r.total.length > 0 ? summarize(r.total) : { p50: NaN, p99: NaN };
        // Requests/s counts only requests that completed; a failed one (reset, or no answer in 60 s) counts as none.
        return { p50: s.p50, p99: s.p99, rps: (r.total.length * 1000) / r.wallMs, errors: r.errors };
      };
      const c1 = await cell(1, quick ? 30 : big ? 60 : 300);
      const c50 = await cell(50, quick ? 100 : big ? 200 : 1000);
      await Bun.sleep(3000);
      const idleMs = quick ? 5000 : 30_000;
      const cpu0 = cpuMs(px.pid);
      await Bun.sleep(idleMs);
      const idleCpuPct = ((cpuMs(px.pid) - cpu0) / idleMs) * 100;
      px.proc.kill("SIGTERM");
      await px.proc.exited;
      const r: VersionResult = { version: v.version, rows, admit, c1, c50, idleCpuPct };
      results.push(r);
      loads.push(loadavg()[0]!);
      console.error(
        `${v.version.padEnd(6)} ${String(rows).padStart(8)} rows  admit off p50 ${admit.off.p50.toFixed(0)} µs, estimate p50 ${admit.estimate.p50.toFixed(0)} µs  c=1 p50 ${c1.p50.toFixed(2)} ms  c=50 ${c50.rps.toFixed(0)} req/s  idle ${idleCpuPct.toFixed(3)} %`,
      );
    }
    rmSync(seed, { force: true });
  }

  const meta = { date: new Date().toISOString(), bun: Bun.version, cpus: navigator.hardwareConcurrency, baseline: baselineCommit, quick, durationS: Math.round((performance.now() - started) / 1000), load: { min: Math.min(...loads), max: Math.max(...loads) } };
  const section = render(meta, results, ladder);
  if (!quick) {
    publishBench(root, { results: "budgets.json", data: { meta, results }, marker: "budget", section });
  }
  console.log(section);
} finally {
  for (const p of procs) if (p.exitCode === null) p.kill();
  try {
    sh(["git", "worktree", "remove", "--force", baseDir]);
  } catch {
    // not created
  }
  rmSync(work, { recursive: true, force: true });
}

function render(meta: { date: string; bun: string; cpus: number; baseline: string; quick: boolean; durationS: number; load: { min: number; max: number } }, rs: VersionResult[], ladder: number[]): string {
  const get = (v: "before" | "after", rows: number) => rs.find((r) => r.version === v && r.rows === rows)!;
  const f = (x: number, d = 0) => x.toFixed(d);
  const top = ladder.at(-1)!;
  const a0 = get("after", 0);
  const aTop = get("after", top);
  const lines = [
    "<!-- budget-bench:start -->",
    "## Budgets: admission as the ledger grows",
    "",
    `\`bun bench/ledger/budgets.ts\` — ${meta.date}, Bun ${meta.bun}, ${meta.cpus} CPUs (shared; load average ${meta.load.min.toFixed(1)}–${meta.load.max.toFixed(1)}), ${meta.durationS} s. ` +
      `"before" is commit ${meta.baseline.slice(0, 10)} (the code before running totals), run from its own worktree in the same run; "after" is this tree. ` +
      "Both run the real `bottle proxy --upstream` with a global monthly claude budget in settings.yml, on a ledger seeded with that many usage rows, all inside the month.",
    "",
    "| rows | version | admit, pre-flight off p50 / p99 (µs) | admit + settle, estimate p50 / p99 (µs) | c=1 p50 (ms) | c=50 (req/s, failed requests) | idle CPU (% of a core) |",
    "|---:|---|---:|---:|---:|---:|---:|",
    ...rs.map((r) => `| ${r.rows.toLocaleString("en-US")} | ${r.version} | ${f(r.admit.off.p50)} / ${f(r.admit.off.p99)} | ${f(r.admit.estimate.p50)} / ${f(r.admit.estimate.p99)} | ${f(r.c1.p50, 2)} | ${f(r.c50.rps)}${r.c50.errors ? ` (${r.c50.errors} failed)` : ""} | ${f(r.idleCpuPct, 3)} |`),
    "",
    "Goals, from the rows above:",
    "",
    `- admission at ${top.toLocaleString("en-US")} rows vs an empty ledger ("after"): pre-flight off ${(aTop.admit.off.p50 / a0.admit.off.p50).toFixed(2)}×, estimate ${(aTop.admit.estimate.p50 / a0.admit.estimate.p50).toFixed(2)}×, c=1 request ${(aTop.c1.p50 / a0.c1.p50).toFixed(2)}× (goal ≤ 1.2×); "before": pre-flight off ${(get("before", top).admit.off.p50 / get("before", 0).admit.off.p50).toFixed(1)}×.`,
    `- c=50 throughput with budgets, after / before: ${ladder.map((n) => `${n.toLocaleString("en-US")} rows ${(get("after", n).c50.rps / get("before", n).c50.rps).toFixed(1)}×`).join(", ")} (goal ≥ 2×).`,
    `- idle CPU of the proxy ("after"): ${ladder.map((n) => `${f(get("after", n).idleCpuPct, 3)} %`).join(", ")} (goal < 0.05 %); "before": ${ladder.map((n) => `${f(get("before", n).idleCpuPct, 3)} %`).join(", ")}.`,
    "<!-- budget-bench:end -->",
  ];
  return lines.join("\n");
}
