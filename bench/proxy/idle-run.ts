/**
 * The idle CPU of a whole `bottle run --simulate`: the process that hosts the proxy and the simulated provider
 * (`bottle run`, restarted in place with Bun's GC timer off) and the in-bottle bridge (a second Bun process,
 * inside the sandbox). bench/proxy/idle.ts measures a bare `bottle proxy`; a run adds the bridge, and a
 * `--simulate` run adds the simulator's server in the proxy's process. Two things kept these waking: a
 * kept-alive connection from the proxy's client to its simulator, which made Bun's HTTP server tick every
 * second for good, and the bridge's own GC timer.
 *
 * Two compiled release builds: "before" (`--before <rev>`; default the commit before the simulator closed
 * its connections) and "after", this tree. Each round starts one `bottle run claude --simulate --backend
 * sandbox` per build at the same time, with a stand-in agent (a shell script named `claude`) that sends 20
 * streamed requests through the proxy with curl and then sleeps, so the agent costs nothing while it idles.
 * 3 s after the agent's last request, CPU (each thread's `se.sum_exec_runtime`, bench/proxy/proc.ts) and
 * thread wakes (context switches) are read over a window (`--window S`, default 30) for the `bottle run`
 * process and for the bridge; then the agent is let go and the run ends. `--rounds N` (default 3) rounds;
 * medians, and the median of per-round ratios after/before.
 *
 * Run: bun bench/proxy/idle-run.ts [--rounds N] [--window S] [--before <rev>]
 *   → bench/results/idle-run.json and the idle-run section of docs/benchmarks.md
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { contextSwitches, grown, threadCpuMs } from "./proc.ts";
import { median } from "./report.ts";
import { publishBench } from "../publish.ts";
import { exportRevision, gitIn, releaseBuild } from "../release-build.ts";

const root = join(import.meta.dir, "../..");
const flag = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const ROUNDS = Number(flag("--rounds") ?? 3);
const WINDOW_MS = Number(flag("--window") ?? 30) * 1000;
const REQUESTS = 20;
const work = mkdtempSync(join(tmpdir(), "bottle-bench-idle-run-"));
const env: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/_proxy$/i.test(k) && k !== "NODE_EXTRA_CA_CERTS" && !k.startsWith("BUN_GC_") && k !== "BOTTLE_NO_REEXEC") env[k] = v;
const procs: ReturnType<typeof Bun.spawn>[] = [];

// The stand-in agent: REQUESTS streamed requests through the bottle's proxy (HTTPS_PROXY, and the bottle's CA
// at BOTTLE_CA_CERT), then it says so and waits to be let go.
const AGENT = `#!/bin/sh
body='{"model":"m","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]}'
i=0
while [ $i -lt ${REQUESTS} ]; do
  curl -sS -o /dev/null --cacert "$BOTTLE_CA_CERT" https://api.anthropic.com/v1/messages -H 'content-type: application/json' -H 'x-api-key: none' -d "$body" || exit 3
  i=$((i+1))
done
echo ready > "$PWD/.loaded"
while [ ! -e "$PWD/.go" ]; do sleep 1; done
`;



/** The pid of the `__bridge` process descending from `ancestor` (bwrap's own processes carry its argv too). */
function bridgeOf(ancestor: number): number | undefined {
  const parent = (pid: number) => Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0");
      if (!argv.includes("__bridge") || basename(argv[0]!) === "bwrap") continue;
      for (let p = Number(d); p > 1; p = parent(p)) if (p === ancestor) return Number(d);
    } catch {
      // gone
    }
  }
  return undefined;
}

interface Sample {
  proxyPct: number;
  bridgePct: number;
  totalPct: number;
  /** thread wakes per minute */
  proxyWakes: number;
  bridgeWakes: number;
}

interface Started {
  proc: ReturnType<typeof Bun.spawn>;
  ws: string;
  bridge: number;
}

async function startRun(bin: string, name: string, round: number): Promise<Started> {
  const ws = mkdtempSync(join(work, `ws-${name}-${round}-`));
  const home = join(work, `home-${name}`);
  mkdirSync(home, { recursive: true });
  const e = { ...env, HOME: join(work, "home"), BOTTLE_HOME: home, NO_COLOR: "1", TZ: "UTC", PATH: `${join(work, "bin")}:${env.PATH ?? "/usr/bin:/bin"}` };
  const proc = Bun.spawn([bin, "run", "claude", "--headless", "--prompt", "idle", "--simulate", "--backend", "sandbox"], { cwd: ws, env: e, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  procs.push(proc);
  const err = new Response(proc.stderr).text();
  while (!existsSync(join(ws, ".loaded"))) {
    if (proc.exitCode !== null) throw new Error(`${name}: bottle run exited ${proc.exitCode} before the agent's load ended: ${await err}`);
    await Bun.sleep(100);
  }
  const bridge = bridgeOf(proc.pid);
  if (bridge === undefined) throw new Error(`${name}: no __bridge process under bottle run (pid ${proc.pid})`);
  return { proc, ws, bridge };
}

try {
  const started = performance.now();
  const beforeRev = flag("--before") ?? `${gitIn(root, ["log", "--format=%H", "-1", "--grep=^simulator: every answer closes its connection"])}^`;
  const beforeCommit = gitIn(root, ["rev-parse", "--short=12", beforeRev]);
  const beforeTree = join(work, "before-src");
  exportRevision(root, beforeCommit, beforeTree, "link", env);
  const variants = [
    { name: "before", bin: await releaseBuild(beforeTree, join(work, "dist-before"), env) },
    { name: "after", bin: await releaseBuild(root, join(work, "dist-after"), env) },
  ];
  mkdirSync(join(work, "bin"));
  writeFileSync(join(work, "bin/claude"), AGENT);
  chmodSync(join(work, "bin/claude"), 0o755);
  const loads = [loadavg()[0]!];
  const samples: Record<string, Sample[]> = Object.fromEntries(variants.map((v) => [v.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const runs = await Promise.all(variants.map((v) => startRun(v.bin, v.name, round)));
    await Bun.sleep(3000);
    const read = (r: Started) => ({ p: threadCpuMs(r.proc.pid), b: threadCpuMs(r.bridge), pw: contextSwitches(r.proc.pid), bw: contextSwitches(r.bridge) });
    const from = runs.map(read);
    await Bun.sleep(WINDOW_MS);
    const to = runs.map(read);
    for (const [i, v] of variants.entries()) {
      const [a, b] = [from[i]!, to[i]!];
      const proxyPct = (grown(a.p, b.p) / WINDOW_MS) * 100;
      const bridgePct = (grown(a.b, b.b) / WINDOW_MS) * 100;
      const perMin = (n: number) => (n * 60_000) / WINDOW_MS;
      samples[v.name]!.push({ proxyPct, bridgePct, totalPct: proxyPct + bridgePct, proxyWakes: perMin(grown(a.pw, b.pw)), bridgeWakes: perMin(grown(a.bw, b.bw)) });
    }
    for (const r of runs) writeFileSync(join(r.ws, ".go"), "");
    for (const [i, r] of runs.entries()) {
      const code = await r.proc.exited;
      if (code !== 0) throw new Error(`${variants[i]!.name}: bottle run exited ${code}`);
    }
    loads.push(loadavg()[0]!);
    console.error(`round ${round + 1}/${ROUNDS}: ${variants.map((v) => `${v.name} ${JSON.stringify(samples[v.name]!.at(-1))}`).join("  ")}`);
  }
  const keys = ["proxyPct", "bridgePct", "totalPct", "proxyWakes", "bridgeWakes"] as const;
  const summary = Object.fromEntries(variants.map((v) => [v.name, Object.fromEntries(keys.map((k) => [k, median(samples[v.name]!.map((s) => s[k]))]))])) as Record<string, Record<(typeof keys)[number], number>>;
  const ratio = Object.fromEntries(keys.map((k) => [k, median(samples.after!.map((s, r) => s[k] / samples.before![r]![k]))])) as Record<(typeof keys)[number], number>;
  const meta = { date: new Date().toISOString(), bun: Bun.version, cpus: navigator.hardwareConcurrency, durationS: Math.round((performance.now() - started) / 1000), load: { min: Math.min(...loads), max: Math.max(...loads) }, before: beforeCommit, rounds: ROUNDS, windowS: WINDOW_MS / 1000, requests: REQUESTS };
  const section = render(meta, summary, ratio);
  publishBench(root, { results: "idle-run.json", data: { meta, summary, ratio, samples }, marker: "idle-run", section });
  console.log(section);
} finally {
  for (const p of procs) if (p.exitCode === null) p.kill();
  rmSync(work, { recursive: true, force: true });
}

function render(
  meta: { date: string; bun: string; cpus: number; durationS: number; load: { min: number; max: number }; before: string; rounds: number; windowS: number; requests: number },
  s: Record<string, Record<"proxyPct" | "bridgePct" | "totalPct" | "proxyWakes" | "bridgeWakes", number>>,
  x: Record<"proxyPct" | "bridgePct" | "totalPct" | "proxyWakes" | "bridgeWakes", number>,
): string {
  const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : "–");
  const row = (name: string, label: string) => {
    const r = s[name]!;
    return `| ${label} | ${f(r.proxyPct, 3)} | ${f(r.bridgePct, 3)} | ${f(r.totalPct, 3)} | ${f(r.proxyWakes)} | ${f(r.bridgeWakes)} |`;
  };
  return [
    "<!-- idle-run-bench:start -->",
    "## Idle CPU of a whole `bottle run --simulate` (proxy and bridge)",
    "",
    `\`bun bench/proxy/idle-run.ts --rounds ${meta.rounds} --window ${meta.windowS}\` — ${meta.date}, Bun ${meta.bun}, ${meta.cpus} CPUs (shared; load average ${f(meta.load.min, 1)}–${f(meta.load.max, 1)}), ${meta.durationS} s. Two compiled release builds, **before** (commit ${meta.before}: the simulator kept its connections alive and the in-bottle bridge ran with Bun's GC timer on) and **after** (this tree), each round one \`bottle run claude --simulate --backend sandbox\` of each at the same time. The agent is a stand-in that sends ${meta.requests} streamed requests through the proxy with curl, then sleeps; 3 s after its last request, CPU (each thread's \`se.sum_exec_runtime\`) and thread wakes (context switches) are read over ${meta.windowS} s for the \`bottle run\` process (proxy and simulator) and for the bridge. Medians of ${meta.rounds} rounds; the last row is the median of per-round ratios after/before.`,
    "",
    "| build | `bottle run` (% of a core) | bridge (% of a core) | both (% of a core) | `bottle run` wakes/min | bridge wakes/min |",
    "|---|---:|---:|---:|---:|---:|",
    row("before", `before (${meta.before})`),
    row("after", "after"),
    `| after/before | ${f(x.proxyPct, 2)}× | ${f(x.bridgePct, 2)}× | ${f(x.totalPct, 2)}× | ${f(x.proxyWakes, 2)}× | ${f(x.bridgeWakes, 2)}× |`,
    "<!-- idle-run-bench:end -->",
  ].join("\n");
}
