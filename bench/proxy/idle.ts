/**
 * Where an idle `bottle proxy` spends its CPU, and whether bottle could remove it. The budget benchmark
 * (bench/ledger/budgets.ts) measures idle CPU over the 30 s that start 3 s after a load; that figure sat at
 * 0.2-0.27 % of a core against a goal of 0.05 %. This benchmark keeps that method and adds what it cannot
 * show: the minute after it (the process long idle), and the same proxy under the Bun runtime's GC-timer
 * settings, which Bun reads from the environment once, when its VM starts (setting them in process.env
 * later has no effect), so the rows tell whether exporting them would be worth a self re-exec.
 *
 * Per variant, in one run: the real `bottle proxy --upstream` of this tree, a loopback TLS upstream with a
 * 30-word streamed reply, the benchmark client at c=1 (300 requests) then c=50 (1000), a 3 s pause, CPU over
 * 30 s ("after load", the budget benchmark's window), then CPU over the next 60 s ("long idle"). With
 * `--strace` a last default proxy is traced (`strace -f -c`) over the same 30 s window and over a long-idle
 * window, and the syscall counts are reported per minute; strace slows the process, so its CPU is not used.
 *
 * Run: bun bench/proxy/idle.ts [--strace]  → bench/results/idle.json and the idle section of docs/benchmarks.md
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateCa } from "../../src/ca/authority.ts";
import { cpuMs, rssMb } from "./proc.ts";
import { publishBench } from "../publish.ts";

const root = join(import.meta.dir, "../..");
const withStrace = process.argv.includes("--strace");
const work = mkdtempSync(join(tmpdir(), "bottle-bench-idle-"));
const env: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/_proxy$/i.test(k) && k !== "NODE_EXTRA_CA_CERTS" && !k.startsWith("BUN_GC_") && k !== "BUN_IDLE_GC_SECONDS") env[k] = v;
const procs: ReturnType<typeof Bun.spawn>[] = [];

/**
 * CPU milliseconds, to the nanosecond, of each live thread of a process: `se.sum_exec_runtime` of
 * /proc/<pid>/task/<tid>/sched. The budget benchmark's /proc/<pid>/stat counts 10 ms ticks, one tick in 30 s
 * being 0.033 %, too coarse for a goal of 0.05 % (schedstat reads 0 on this kernel). Threads come and go (Bun's
 * pool threads exit when idle), so a window's CPU is the sum of each thread's growth (a thread born in the
 * window counts from zero); what a thread ran between the first reading and its exit is lost, so this
 * undercounts by that much, while the ticks figure beside it does not.
 */
function threadCpuMs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const m = /se\.sum_exec_runtime\s*:\s*([\d.]+)/.exec(readFileSync(`/proc/${pid}/task/${tid}/sched`, "utf8"));
      if (m) out.set(tid, Number(m[1]));
    } catch {
      // the thread exited between the listing and the read
    }
  }
  return out;
}

function grown(from: Map<string, number>, to: Map<string, number>): number {
  let ms = 0;
  for (const [tid, v] of to) ms += v - (from.get(tid) ?? 0);
  return ms;
}

const AFTER_LOAD_MS = 30_000;
const LONG_IDLE_MS = 60_000;

async function start(cmd: string[], extraEnv: Record<string, string> = {}): Promise<{ pid: number; proc: ReturnType<typeof Bun.spawn>; info: Record<string, unknown> }> {
  const p = Bun.spawn(cmd, { env: { ...env, ...extraEnv }, stdout: "pipe", stderr: "ignore" });
  procs.push(p);
  const reader = (p.stdout as ReadableStream<Uint8Array>).getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`${cmd.join(" ")} exited before it was ready`);
    line += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return { pid: p.pid, proc: p, info: JSON.parse(line.slice(0, line.indexOf("\n"))) as Record<string, unknown> };
}

interface VariantResult {
  variant: string;
  afterLoadPct: number;
  longIdlePct: number;
  /** the same windows in /proc/<pid>/stat ticks, the budget benchmark's method */
  afterLoadTicksPct: number;
  longIdleTicksPct: number;
  rssLoadedMb: number;
  rssIdleMb: number;
}

const VARIANTS: Array<{ variant: string; env: Record<string, string> }> = [
  { variant: "default", env: {} },
  { variant: "BUN_GC_TIMER_INTERVAL=30000", env: { BUN_GC_TIMER_INTERVAL: "30000" } },
  { variant: "BUN_GC_TIMER_DISABLE=1", env: { BUN_GC_TIMER_DISABLE: "1" } },
];

/** syscall name → calls, from `strace -c` output. */
function straceCounts(file: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$/.exec(line);
    if (m && m[2] !== "total") out[m[2]!] = Number(m[1]);
  }
  return out;
}

try {
  const started = performance.now();
  const upstreamCaDir = join(work, "upstream-ca");
  const upstreamCaFile = join(work, "upstream-ca.pem");
  writeFileSync(upstreamCaFile, loadOrCreateCa(upstreamCaDir).certPem);
  const up = await start(["bun", join(root, "bench/proxy/upstream.ts"), upstreamCaDir, "30"]);
  const loads: number[] = [loadavg()[0]!];

  const loaded = async (i: number, extraEnv: Record<string, string>) => {
    const home = join(work, `home-${i}`);
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, "settings.yml"), "budget:\n  claude: { tokens: 1000000000000, per: month }\n");
    const ca = [loadOrCreateCa(upstreamCaDir).certPem, loadOrCreateCa(join(home, "ca")).certPem];
    const px = await start(["bun", join(root, "src/cli/main.ts"), "proxy", "--provider", "claude", "--upstream", `https://127.0.0.1:${up.info.port}`, "--json", "--log", "blocks"], {
      BOTTLE_HOME: home,
      HOME: join(work, "home"),
      NODE_EXTRA_CA_CERTS: upstreamCaFile,
      ...extraEnv,
    });
    const proxy = (px.info.env as Record<string, string>).HTTPS_PROXY!;
    for (const [concurrency, requests] of [[1, 300], [50, 1000]] as const) {
      const spec = JSON.stringify({ url: "https://api.anthropic.com/v1/messages", proxy, workload: "sse", concurrency, requests, keepAlive: true, ca, tolerateErrors: true });
      const c = Bun.spawn(["bun", join(root, "bench/proxy/client.ts"), spec], { env, stdout: "pipe", stderr: "inherit" });
      await new Response(c.stdout).text();
      if ((await c.exited) !== 0) throw new Error("benchmark client failed");
    }
    const rssLoadedMb = rssMb(px.pid);
    await Bun.sleep(3000);
    return { px, rssLoadedMb };
  };

  const results: VariantResult[] = [];
  for (const [i, v] of VARIANTS.entries()) {
    const { px, rssLoadedMb } = await loaded(i, v.env);
    const [c0, n0] = [cpuMs(px.pid), threadCpuMs(px.pid)];
    await Bun.sleep(AFTER_LOAD_MS);
    const [c1, n1] = [cpuMs(px.pid), threadCpuMs(px.pid)];
    await Bun.sleep(LONG_IDLE_MS);
    const [c2, n2] = [cpuMs(px.pid), threadCpuMs(px.pid)];
    const r: VariantResult = {
      variant: v.variant,
      afterLoadPct: (grown(n0, n1) / AFTER_LOAD_MS) * 100,
      longIdlePct: (grown(n1, n2) / LONG_IDLE_MS) * 100,
      afterLoadTicksPct: ((c1 - c0) / AFTER_LOAD_MS) * 100,
      longIdleTicksPct: ((c2 - c1) / LONG_IDLE_MS) * 100,
      rssLoadedMb,
      rssIdleMb: rssMb(px.pid),
    };
    px.proc.kill("SIGTERM");
    await px.proc.exited;
    results.push(r);
    loads.push(loadavg()[0]!);
    console.error(`${r.variant.padEnd(28)} after load ${r.afterLoadPct.toFixed(3)} % (ticks ${r.afterLoadTicksPct.toFixed(3)} %)  long idle ${r.longIdlePct.toFixed(3)} % (ticks ${r.longIdleTicksPct.toFixed(3)} %)  RSS ${r.rssLoadedMb.toFixed(0)} → ${r.rssIdleMb.toFixed(0)} MB`);
  }

  let syscalls: { afterLoad: Record<string, number>; longIdle: Record<string, number> } | undefined;
  if (withStrace) {
    const { px } = await loaded(VARIANTS.length, {});
    const trace = async (ms: number, file: string) => {
      const st = Bun.spawn(["strace", "-f", "-c", "-p", String(px.pid), "-o", file], { stdout: "ignore", stderr: "ignore" });
      procs.push(st);
      await Bun.sleep(ms);
      st.kill("SIGINT");
      await st.exited;
      const perMin: Record<string, number> = {};
      for (const [k, n] of Object.entries(straceCounts(file))) perMin[k] = Math.round((n * 60_000) / ms);
      return perMin;
    };
    const afterLoad = await trace(AFTER_LOAD_MS, join(work, "strace-after-load.txt"));
    await Bun.sleep(LONG_IDLE_MS - AFTER_LOAD_MS);
    const longIdle = await trace(LONG_IDLE_MS, join(work, "strace-long-idle.txt"));
    px.proc.kill("SIGTERM");
    await px.proc.exited;
    syscalls = { afterLoad, longIdle };
    console.error(JSON.stringify(syscalls));
  }

  const meta = { date: new Date().toISOString(), bun: Bun.version, cpus: navigator.hardwareConcurrency, durationS: Math.round((performance.now() - started) / 1000), load: { min: Math.min(...loads), max: Math.max(...loads) } };
  const section = render(meta, results, syscalls);
  publishBench(root, { results: "idle.json", data: { meta, results, syscalls }, marker: "idle", section });
  console.log(section);
} finally {
  for (const p of procs) if (p.exitCode === null) p.kill();
  rmSync(work, { recursive: true, force: true });
}

function render(
  meta: { date: string; bun: string; cpus: number; durationS: number; load: { min: number; max: number } },
  rs: VariantResult[],
  syscalls: { afterLoad: Record<string, number>; longIdle: Record<string, number> } | undefined,
): string {
  const f = (x: number, d = 0) => x.toFixed(d);
  const lines = [
    "<!-- idle-bench:start -->",
    "## Idle CPU of the proxy, and the Bun runtime's GC timer",
    "",
    `\`bun bench/proxy/idle.ts${syscalls ? " --strace" : ""}\` — ${meta.date}, Bun ${meta.bun}, ${meta.cpus} CPUs (shared; load average ${f(meta.load.min, 1)}–${f(meta.load.max, 1)}), ${meta.durationS} s. The real \`bottle proxy --upstream\` of this tree after 300 requests at c=1 and 1000 at c=50; "after load" is the budget benchmark's window (30 s starting 3 s after the load), "long idle" the 60 s after it. CPU is the growth of each of the proxy's threads' \`se.sum_exec_runtime\` in /proc/<pid>/task/<tid>/sched (nanosecond resolution; a thread that exits in the window loses what it ran there); in brackets the budget benchmark's /proc/<pid>/stat figure, counted in 10 ms ticks (one tick in 30 s is 0.033 %).`,
    "",
    "| Bun environment of the proxy | after load (% of a core) | long idle (% of a core) | RSS after load → after idle (MB) |",
    "|---|---:|---:|---:|",
    ...rs.map((r) => `| ${r.variant === "default" ? "none (what bottle runs with)" : `\`${r.variant}\``} | ${f(r.afterLoadPct, 3)} (${f(r.afterLoadTicksPct, 3)}) | ${f(r.longIdlePct, 3)} (${f(r.longIdleTicksPct, 3)}) | ${f(r.rssLoadedMb)} → ${f(r.rssIdleMb)} |`),
  ];
  if (syscalls) {
    const names = [...new Set([...Object.keys(syscalls.afterLoad), ...Object.keys(syscalls.longIdle)])].sort((x, y) => (syscalls.afterLoad[y] ?? 0) - (syscalls.afterLoad[x] ?? 0));
    lines.push(
      "",
      "Syscalls of another default proxy per minute (`strace -f -c`, all threads), over the after-load window and over 63–123 s after the load:",
      "",
      "| syscall | after load (per min) | long idle (per min) |",
      "|---|---:|---:|",
      ...names.map((n) => `| ${n} | ${syscalls.afterLoad[n] ?? 0} | ${syscalls.longIdle[n] ?? 0} |`),
    );
  }
  lines.push("<!-- idle-bench:end -->");
  return lines.join("\n");
}
