/**
 * Where an idle `bottle proxy` spends its CPU, and what bottle's restart with Bun's GC timer off
 * (src/cli/gc-timer-reexec.ts) buys and costs. The budget benchmark (bench/ledger/budgets.ts) measures idle
 * CPU over the 30 s that start 3 s after a load; that figure sat at 0.2-0.27 % of a core against a goal of
 * 0.05 %, most of it Bun's own GC timer, which Bun reads from the environment once, when its VM starts.
 *
 * Two compiled `bottle` binaries, built here with the release options: "before", the commit before the
 * restart (`--before <rev>`; default the parent of the commit that added gc-timer-reexec.ts), and "after",
 * this tree, which restarts itself with `BUN_GC_TIMER_DISABLE=1`. Idle, per binary: the real `bottle proxy
 * --upstream`, a loopback TLS upstream with a 30-word streamed reply, the benchmark client at c=1 (300
 * requests) then c=50 (1000), a 3 s pause, CPU over 30 s ("after load", the budget benchmark's window), then
 * CPU over the next 60 s ("long idle"). With `--strace` a last "after" proxy is traced (`strace -f -c`) over
 * the same windows and the syscall counts are reported per minute; strace slows the process, so its CPU is
 * not used.
 *
 * Start time, what the restart costs: `--rounds N` (default 10) rounds, the setups' order rotating each
 * round, of `bottle --version`, `bottle proxy` from spawn to its ready line, and the wall time of a
 * headless `bottle run claude --simulate --backend sandbox` (the real Claude Code CLI from the agents
 * cache, $BOTTLE_AGENTS_DIR), for "before", "after" and "after" with `BOTTLE_NO_REEXEC=1`; medians, and the
 * median of per-round ratios to "before". Wall times on a shared machine swing with its load, so the CPU of
 * `--version` and of a proxy's whole life (from the child's rusage) is reported beside them.
 *
 * Run: bun bench/proxy/idle.ts [--strace] [--rounds N] [--before <rev>]
 *   → bench/results/idle.json and the idle section of docs/benchmarks.md
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateCa } from "../../src/ca/authority.ts";
import { cpuMs, grown, rssMb, startReady, threadCpuMs } from "./proc.ts";
import { median } from "./report.ts";
import { publishBench } from "../publish.ts";
import { exportRevision, gitIn, releaseBuild } from "../release-build.ts";

const root = join(import.meta.dir, "../..");
const withStrace = process.argv.includes("--strace");
const flag = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const ROUNDS = Number(flag("--rounds") ?? 10);
const agentsBin = join(process.env.BOTTLE_AGENTS_DIR ?? join(root, ".cache/agents"), "node_modules/.bin");
const work = mkdtempSync(join(tmpdir(), "bottle-bench-idle-"));
const env: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/_proxy$/i.test(k) && k !== "NODE_EXTRA_CA_CERTS" && !k.startsWith("BUN_GC_") && k !== "BUN_IDLE_GC_SECONDS") env[k] = v;
const procs: ReturnType<typeof Bun.spawn>[] = [];

/** A window's CPU by thread name (threads of one name summed; digits dropped, so a pool is one line), ms. */
function grownByName(from: Map<string, number>, to: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, v] of to) {
    const name = key.slice(key.indexOf(" ") + 1).replace(/\d+$/, "").trim() || "?";
    out[name] = (out[name] ?? 0) + v - (from.get(key) ?? 0);
  }
  return out;
}

const AFTER_LOAD_MS = 30_000;
const LONG_IDLE_MS = 60_000;

const start = (cmd: string[], extraEnv: Record<string, string> = {}) => startReady(cmd, { ...env, ...extraEnv }, { stderr: "ignore", track: procs });

interface VariantResult {
  variant: string;
  /** BUN_GC_TIMER_DISABLE=1 was in the environment the serving process was started with */
  gcTimerOff: boolean;
  afterLoadPct: number;
  longIdlePct: number;
  /** the same windows in /proc/<pid>/stat ticks, the budget benchmark's method */
  afterLoadTicksPct: number;
  longIdleTicksPct: number;
  rssLoadedMb: number;
  rssIdleMb: number;
  /** each window's CPU by thread name, ms */
  threads: { afterLoad: Record<string, number>; longIdle: Record<string, number> };
}

interface StartResult {
  setup: string;
  /** medians, ms */
  versionMs: number;
  proxyReadyMs: number;
  runMs: number;
  /** CPU (user + system) of the process, ms: `--version`, and `proxy` from start through ready to its exit on SIGTERM */
  versionCpuMs: number;
  proxyCpuMs: number;
  /** medians of per-round ratios to "before" */
  versionX: number;
  proxyReadyX: number;
  runX: number;
  versionCpuX: number;
  proxyCpuX: number;
}

/** syscall name → calls, from `strace -c` output. */
function straceCounts(file: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$/.exec(line);
    if (m && m[2] !== "total") out[m[2]!] = Number(m[1]);
  }
  return out;
}



/** The environment the process image was started with (what Bun's runtime read). */
function startedWith(pid: number): string[] {
  return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
}

try {
  const started = performance.now();
  const beforeRev = flag("--before") ?? `${gitIn(root, ["log", "--diff-filter=A", "--format=%H", "--", "src/cli/gc-timer-reexec.ts"]).split("\n").pop()}^`;
  const beforeCommit = gitIn(root, ["rev-parse", "--short=12", beforeRev]);
  const beforeTree = join(work, "before-src");
  exportRevision(root, beforeCommit, beforeTree, "link", env);
  const bins = { before: await releaseBuild(beforeTree, join(work, "dist-before"), env), after: await releaseBuild(root, join(work, "dist-after"), env) };

  const upstreamCaDir = join(work, "upstream-ca");
  const upstreamCaFile = join(work, "upstream-ca.pem");
  writeFileSync(upstreamCaFile, loadOrCreateCa(upstreamCaDir).certPem);
  const up = await start(["bun", join(root, "bench/proxy/upstream.ts"), upstreamCaDir, "30"]);
  const loads: number[] = [loadavg()[0]!];

  const loaded = async (i: number, bin: string) => {
    const home = join(work, `home-${i}`);
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, "settings.yml"), "budget:\n  claude: { tokens: 1000000000000, per: month }\n");
    const ca = [loadOrCreateCa(upstreamCaDir).certPem, loadOrCreateCa(join(home, "ca")).certPem];
    const px = await start([bin, "proxy", "--provider", "claude", "--upstream", `https://127.0.0.1:${up.info.port}`, "--json", "--log", "blocks"], {
      BOTTLE_HOME: home,
      HOME: join(work, "home"),
      NODE_EXTRA_CA_CERTS: upstreamCaFile,
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

  const variants = [
    { variant: `before (${beforeCommit})`, bin: bins.before },
    { variant: "after (restarts with BUN_GC_TIMER_DISABLE=1)", bin: bins.after },
  ];
  const results: VariantResult[] = [];
  for (const [i, v] of variants.entries()) {
    const { px, rssLoadedMb } = await loaded(i, v.bin);
    const gcTimerOff = startedWith(px.pid).includes("BUN_GC_TIMER_DISABLE=1");
    const [c0, n0] = [cpuMs(px.pid), threadCpuMs(px.pid)];
    await Bun.sleep(AFTER_LOAD_MS);
    const [c1, n1] = [cpuMs(px.pid), threadCpuMs(px.pid)];
    await Bun.sleep(LONG_IDLE_MS);
    const [c2, n2] = [cpuMs(px.pid), threadCpuMs(px.pid)];
    const r: VariantResult = {
      variant: v.variant,
      gcTimerOff,
      afterLoadPct: (grown(n0, n1) / AFTER_LOAD_MS) * 100,
      longIdlePct: (grown(n1, n2) / LONG_IDLE_MS) * 100,
      afterLoadTicksPct: ((c1 - c0) / AFTER_LOAD_MS) * 100,
      longIdleTicksPct: ((c2 - c1) / LONG_IDLE_MS) * 100,
      rssLoadedMb,
      rssIdleMb: rssMb(px.pid),
      threads: { afterLoad: grownByName(n0, n1), longIdle: grownByName(n1, n2) },
    };
    px.proc.kill("SIGTERM");
    await px.proc.exited;
    results.push(r);
    loads.push(loadavg()[0]!);
    console.error(JSON.stringify(r.threads));
    console.error(`${r.variant.padEnd(48)} timer off ${r.gcTimerOff}  after load ${r.afterLoadPct.toFixed(3)} % (ticks ${r.afterLoadTicksPct.toFixed(3)} %)  long idle ${r.longIdlePct.toFixed(3)} % (ticks ${r.longIdleTicksPct.toFixed(3)} %)  RSS ${r.rssLoadedMb.toFixed(0)} → ${r.rssIdleMb.toFixed(0)} MB`);
  }

  let syscalls: { afterLoad: Record<string, number>; longIdle: Record<string, number> } | undefined;
  if (withStrace) {
    const { px } = await loaded(variants.length, bins.after);
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

  // Start time: the same three measurements for each setup in every round, the order rotating.
  const setups = [
    { setup: "before", bin: bins.before, env: {} as Record<string, string> },
    { setup: "after", bin: bins.after, env: {} as Record<string, string> },
    { setup: "after, BOTTLE_NO_REEXEC=1", bin: bins.after, env: { BOTTLE_NO_REEXEC: "1" } },
  ];
  const samples = setups.map(() => ({ version: [] as number[], proxyReady: [] as number[], run: [] as number[], versionCpu: [] as number[], proxyCpu: [] as number[] }));
  const cpuOf = (p: ReturnType<typeof Bun.spawn>) => Number(p.resourceUsage()?.cpuTime.total ?? NaN) / 1000;
  const setupEnv = (i: number, extra: Record<string, string>) => ({ ...env, HOME: join(work, "home"), BOTTLE_HOME: join(work, `start-home-${i}`), NO_COLOR: "1", TZ: "UTC", PATH: `${agentsBin}:${env.PATH ?? "/usr/bin:/bin"}`, ...extra });
  const timed = async (cmd: string[], e: Record<string, string>, cwd: string = work): Promise<{ ms: number; cpuMs: number }> => {
    const t0 = performance.now();
    const p = Bun.spawn(cmd, { cwd, env: e, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    procs.push(p);
    const [, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}: ${err}`);
    return { ms: performance.now() - t0, cpuMs: cpuOf(p) };
  };
  const untilReady = async (bin: string, e: Record<string, string>): Promise<{ ms: number; cpuMs: number }> => {
    const t0 = performance.now();
    const p = Bun.spawn([bin, "proxy", "--simulate", "--provider", "claude", "--json"], { env: e, stdin: "ignore", stdout: "pipe", stderr: "ignore" });
    procs.push(p);
    const reader = (p.stdout as ReadableStream<Uint8Array>).getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`${bin} proxy exited before it was ready`);
      text += new TextDecoder().decode(value);
    }
    const ms = performance.now() - t0;
    p.kill("SIGTERM");
    await p.exited;
    return { ms, cpuMs: cpuOf(p) };
  };
  for (const [i] of setups.entries()) mkdirSync(join(work, `start-home-${i}`));
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < setups.length; k++) {
      const i = (round + k) % setups.length;
      const s = setups[i]!;
      const e = setupEnv(i, s.env);
      const x = samples[i]!;
      for (let n = 0; n < 3; n++) {
        const v = await timed([s.bin, "--version"], e);
        x.version.push(v.ms);
        x.versionCpu.push(v.cpuMs);
      }
      const px = await untilReady(s.bin, e);
      x.proxyReady.push(px.ms);
      x.proxyCpu.push(px.cpuMs);
      const ws = mkdtempSync(join(work, "ws-"));
      x.run.push((await timed([s.bin, "run", "claude", "--headless", "--prompt", "Say hello.", "--simulate", "--backend", "sandbox"], e, ws)).ms);
    }
    loads.push(loadavg()[0]!);
    console.error(`start round ${round + 1}/${ROUNDS}`);
  }
  const perRound = (i: number, pick: (x: (typeof samples)[number]) => number[], per: number) =>
    Array.from({ length: ROUNDS }, (_, r) => median(pick(samples[i]!).slice(r * per, (r + 1) * per)) / median(pick(samples[0]!).slice(r * per, (r + 1) * per)));
  const starts: StartResult[] = setups.map((s, i) => ({
    setup: s.setup,
    versionMs: median(samples[i]!.version),
    proxyReadyMs: median(samples[i]!.proxyReady),
    runMs: median(samples[i]!.run),
    versionCpuMs: median(samples[i]!.versionCpu),
    proxyCpuMs: median(samples[i]!.proxyCpu),
    versionX: median(perRound(i, (x) => x.version, 3)),
    proxyReadyX: median(perRound(i, (x) => x.proxyReady, 1)),
    runX: median(perRound(i, (x) => x.run, 1)),
    versionCpuX: median(perRound(i, (x) => x.versionCpu, 3)),
    proxyCpuX: median(perRound(i, (x) => x.proxyCpu, 1)),
  }));
  for (const r of starts) console.error(JSON.stringify(r));

  const meta = { date: new Date().toISOString(), bun: Bun.version, cpus: navigator.hardwareConcurrency, durationS: Math.round((performance.now() - started) / 1000), load: { min: Math.min(...loads), max: Math.max(...loads) }, before: beforeCommit, rounds: ROUNDS };
  const section = render(meta, results, syscalls, starts);
  publishBench(root, { results: "idle.json", data: { meta, results, syscalls, starts, samples: Object.fromEntries(setups.map((s, i) => [s.setup, samples[i]])) }, marker: "idle", section });
  console.log(section);
} finally {
  for (const p of procs) if (p.exitCode === null) p.kill();
  rmSync(work, { recursive: true, force: true });
}

function render(
  meta: { date: string; bun: string; cpus: number; durationS: number; load: { min: number; max: number }; before: string; rounds: number },
  rs: VariantResult[],
  syscalls: { afterLoad: Record<string, number>; longIdle: Record<string, number> } | undefined,
  starts: StartResult[],
): string {
  const f = (x: number, d = 0) => x.toFixed(d);
  const lines = [
    "<!-- idle-bench:start -->",
    "## Idle CPU of the proxy, and bottle's restart with Bun's GC timer off",
    "",
    `\`bun bench/proxy/idle.ts${syscalls ? " --strace" : ""} --rounds ${meta.rounds}\` — ${meta.date}, Bun ${meta.bun}, ${meta.cpus} CPUs (shared; load average ${f(meta.load.min, 1)}–${f(meta.load.max, 1)}), ${meta.durationS} s. Two compiled release builds: **before**, commit ${meta.before} (the GC timer on), and **after**, this tree, whose \`bottle run\`, \`resume\` and \`proxy\` restart themselves once with \`BUN_GC_TIMER_DISABLE=1\` (src/cli/gc-timer-reexec.ts). Idle: the real \`bottle proxy --upstream\` after 300 requests at c=1 and 1000 at c=50; "after load" is the budget benchmark's window (30 s starting 3 s after the load), "long idle" the 60 s after it. CPU is the growth of each of the proxy's threads' \`se.sum_exec_runtime\` in /proc/<pid>/task/<tid>/sched (nanosecond resolution; a thread that exits in the window loses what it ran there); in brackets the budget benchmark's /proc/<pid>/stat figure, counted in 10 ms ticks (one tick in 30 s is 0.033 %). "Timer off" is read from the serving process's /proc/<pid>/environ.`,
    "",
    "| proxy | timer off | after load (% of a core) | long idle (% of a core) | RSS after load → after idle (MB) |",
    "|---|---|---:|---:|---:|",
    ...rs.map((r) => `| ${r.variant} | ${r.gcTimerOff ? "yes" : "no"} | ${f(r.afterLoadPct, 3)} (${f(r.afterLoadTicksPct, 3)}) | ${f(r.longIdlePct, 3)} (${f(r.longIdleTicksPct, 3)}) | ${f(r.rssLoadedMb)} → ${f(r.rssIdleMb)} |`),
    "",
    "The same windows' CPU by thread (ms; threads of one name summed, those under 0.5 ms left out):",
    "",
    ...rs.flatMap((r) => (["afterLoad", "longIdle"] as const).map((w) => {
      const top = Object.entries(r.threads[w]).filter(([, ms]) => ms >= 0.5).sort((a, b) => b[1] - a[1]);
      return `- ${r.variant}, ${w === "afterLoad" ? "after load" : "long idle"}: ${top.map(([n, ms]) => `${n} ${f(ms, 1)}`).join(", ") || "none"}`;
    })),
    "",
    `What the restart costs at start, ${meta.rounds} rounds, the setups interleaved (order rotating); medians, and in brackets the median of per-round ratios to before: \`bottle --version\` (3 per round; wall time, and the process's CPU from its rusage, which a busy machine disturbs less), \`bottle proxy --simulate\` from spawn to its ready line (wall) and its CPU from start through ready to its exit on SIGTERM, and the wall time of \`bottle run claude --headless --prompt … --simulate --backend sandbox\` (the real Claude Code CLI in a sandbox bottle, four metered requests).`,
    "",
    "| setup | `--version` wall (ms) | `--version` CPU (ms) | `proxy` to ready, wall (ms) | `proxy` start to exit, CPU (ms) | `run --headless --simulate` wall (ms) |",
    "|---|---:|---:|---:|---:|---:|",
    ...starts.map((s) => `| ${s.setup} | ${f(s.versionMs, 1)} (${f(s.versionX, 2)}×) | ${f(s.versionCpuMs, 1)} (${f(s.versionCpuX, 2)}×) | ${f(s.proxyReadyMs)} (${f(s.proxyReadyX, 2)}×) | ${f(s.proxyCpuMs)} (${f(s.proxyCpuX, 2)}×) | ${f(s.runMs)} (${f(s.runX, 2)}×) |`),
  ];
  if (syscalls) {
    const names = [...new Set([...Object.keys(syscalls.afterLoad), ...Object.keys(syscalls.longIdle)])].sort((x, y) => (syscalls.afterLoad[y] ?? 0) - (syscalls.afterLoad[x] ?? 0));
    lines.push(
      "",
      "Syscalls of another \"after\" proxy per minute (`strace -f -c`, all threads), over the after-load window and over 63–123 s after the load:",
      "",
      "| syscall | after load (per min) | long idle (per min) |",
      "|---|---:|---:|",
      ...names.map((n) => `| ${n} | ${syscalls.afterLoad[n] ?? 0} | ${syscalls.longIdle[n] ?? 0} |`),
    );
  }
  lines.push("<!-- idle-bench:end -->");
  return lines.join("\n");
}
