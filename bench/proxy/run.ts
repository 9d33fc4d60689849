/**
 * The proxy benchmark: what bottle's proxy costs against the floor, measured side by side in one run.
 * Setups: direct to the simulated upstream; a TCP relay (a CONNECT proxy that only pipes bytes); a
 * TLS-terminating relay (terminates the client's TLS, re-encrypts upstream, nothing else: the floor for any
 * MITM proxy); the real `bottle proxy --upstream` command, so the hooks measured are the ones users get
 * (metering, the ledger, and a global monthly budget from settings.yml, read from its running total on every
 * request); and "proxy only", bottle's proxy with the metering hooks
 * alone (metered-only.ts), which tells the proxy's own path apart from recording and admission. Every
 * setup is its own process, as are the client and the upstream.
 *
 * The machine is shared, so nothing is compared across time: the setups are interleaved within each cell
 * (their order rotates every round), a warm-up round is discarded, and the report gives, per metric, the
 * median over rounds of the ratio to the TLS relay measured in the same round, plus the load average.
 *
 * Run: bun bench/proxy/run.ts [--rounds N] [--quick] [--compiled | --bottle <command>] [--baseline <git revision>]
 *   → bench/results/proxy.json and the proxy section of docs/benchmarks.md (not with --quick)
 * `--compiled` builds and measures the release binary; `--bottle <command>` any other; default `bun src/cli/main.ts`.
 * `--baseline <rev>` also builds the release binary of that revision (from `git archive`) and runs it as one
 * more setup, "bottle (baseline)", with its own BOTTLE_HOME and the same settings: what a change did,
 * measured interleaved in the same run instead of against an earlier run on a differently loaded machine.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateCa } from "../../src/ca/authority.ts";
import { LeafIssuer } from "../../src/ca/leaf.ts";
import { cpuMs, rssMb, rssSampler, startReady } from "./proc.ts";
import { CELLS, renderMarkdown, summarize, type Sample, type Setup } from "./report.ts";
import { publishBench } from "../publish.ts";
import { exportRevision, releaseBuild } from "../release-build.ts";

const root = join(import.meta.dir, "../..");
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const rounds = Number(opt("--rounds") ?? (quick ? 1 : 3));
const work = mkdtempSync(join(tmpdir(), "bottle-bench-proxy-"));
// --compiled: build the release binary (scripts/build.ts) into the work directory and measure that.
const compiled = args.includes("--compiled");
if (compiled) {
  await releaseBuild(root, join(work, "dist"));
}
// --baseline <rev>: that revision's release binary, built from its own tree, measured as one more setup.
const baselineRev = opt("--baseline");
let baselineCmd: string[] | undefined;
if (baselineRev) {
  const tree = join(work, "baseline");
  exportRevision(root, baselineRev, tree, "install");
  baselineCmd = [await releaseBuild(tree, join(tree, "dist"))];
}
const bottleCmd = compiled ? [join(work, "dist/bottle")] : (opt("--bottle") ?? `bun ${join(root, "src/cli/main.ts")}`).split(" ");
const bottleHome = join(work, "bottle-home");
const upstreamCa = loadOrCreateCa(join(work, "upstream-ca"));
const bottleCa = loadOrCreateCa(join(bottleHome, "ca"));
const leaf = new LeafIssuer(bottleCa).issue("api.anthropic.com");
const files = { cert: join(work, "leaf.pem"), key: join(work, "leaf-key.pem"), ca: join(work, "upstream-ca.pem") };
writeFileSync(files.cert, leaf.certPem);
writeFileSync(files.key, leaf.keyPem);
writeFileSync(files.ca, upstreamCa.certPem);
const ca = [upstreamCa.certPem, bottleCa.certPem];
// The budget hooks as users get them: a global monthly budget (never reached) that every request is admitted against.
writeFileSync(join(bottleHome, "settings.yml"), "budget:\n  claude: { tokens: 1000000000000, per: month }\n");
const env: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/_proxy$/i.test(k) && k !== "NODE_EXTRA_CA_CERTS") env[k] = v;

const procs: ReturnType<typeof Bun.spawn>[] = [];
const start = (cmd: string[], extraEnv: Record<string, string> = {}) => startReady(cmd, { ...env, ...extraEnv }, { stderr: "ignore", track: procs });

const nodeBin = Bun.which("node");
const floorCmd = nodeBin ? [nodeBin] : ["bun"];

try {
  const up = await start(["bun", join(import.meta.dir, "upstream.ts"), join(work, "upstream-ca")]);
  const upPort = up.info.port as number;
  const tcp = await start([...floorCmd, join(import.meta.dir, "floor.mjs"), "tcp", String(upPort)]);
  const tls = await start([...floorCmd, join(import.meta.dir, "floor.mjs"), "tls", String(upPort), files.cert, files.key, files.ca]);
  const bottle = await start(
    [...bottleCmd, "proxy", "--provider", "claude", "--upstream", `https://127.0.0.1:${upPort}`, "--json", "--log", "blocks"],
    { BOTTLE_HOME: bottleHome, HOME: join(work, "home"), NODE_EXTRA_CA_CERTS: files.ca },
  );
  // The baseline gets its own home (its own ledger) with the same settings and the same CA the client trusts.
  const baselineHome = join(work, "baseline-home");
  if (baselineCmd) {
    cpSync(join(bottleHome, "ca"), join(baselineHome, "ca"), { recursive: true });
    cpSync(join(bottleHome, "settings.yml"), join(baselineHome, "settings.yml"));
  }
  const baseline = baselineCmd
    ? await start([...baselineCmd, "proxy", "--provider", "claude", "--upstream", `https://127.0.0.1:${upPort}`, "--json", "--log", "blocks"], {
        BOTTLE_HOME: baselineHome,
        HOME: join(work, "home"),
        NODE_EXTRA_CA_CERTS: files.ca,
      })
    : undefined;
  const metered = await start(["bun", join(import.meta.dir, "metered-only.ts"), String(upPort), join(bottleHome, "ca")], { NODE_EXTRA_CA_CERTS: files.ca });
  const direct = `https://127.0.0.1:${upPort}/v1/messages`;
  const api = "https://api.anthropic.com/v1/messages";
  const setups: Setup[] = [
    { name: "direct", url: direct },
    { name: "tcp relay", url: direct, proxy: tcp.info.url as string, pid: tcp.pid },
    { name: "tls relay", url: api, proxy: tls.info.url as string, pid: tls.pid },
    { name: "bottle", url: api, proxy: (bottle.info.env as Record<string, string>).HTTPS_PROXY!, pid: bottle.pid },
    { name: "proxy only", url: api, proxy: metered.info.url as string, pid: metered.pid },
    ...(baseline ? [{ name: "bottle (baseline)", url: api, proxy: (baseline.info.env as Record<string, string>).HTTPS_PROXY!, pid: baseline.pid }] : []),
  ];
  const idleRss = Object.fromEntries(setups.filter((s) => s.pid).map((s) => [s.name, rssMb(s.pid!)]));
  const samples: Sample[] = [];
  const loads: number[] = [];
  const started = performance.now();

  async function measure(s: Setup, c: (typeof CELLS)[number], round: number, scale: number): Promise<Sample> {
    const requests = Math.max(c.concurrency, Math.round(c.requests * scale));
    const spec = JSON.stringify({ url: s.url, ...(s.proxy ? { proxy: s.proxy } : {}), workload: c.workload, concurrency: c.concurrency, requests, keepAlive: c.keepAlive, ca });
    const cpu0 = s.pid ? cpuMs(s.pid) : NaN;
    const rss = s.pid ? rssSampler(s.pid) : undefined;
    const p = Bun.spawn(["bun", join(import.meta.dir, "client.ts"), spec], { env, stdout: "pipe", stderr: "inherit" });
    const out = await new Response(p.stdout).text();
    const peak = rss?.stop() ?? NaN;
    const cpu = s.pid ? cpuMs(s.pid) - cpu0 : NaN;
    if ((await p.exited) !== 0) throw new Error(`client failed for ${s.name} ${c.id}`);
    const r = JSON.parse(out) as { ttfb: number[]; total: number[]; wallMs: number; served: number };
    return { round, setup: s.name, cell: c.id, requests, ttfb: summarize(r.ttfb), total: summarize(r.total), rps: (requests * 1000) / r.wallMs, cpuMsPerRequest: cpu / r.served, peakRssMb: peak };
  }

  // Round 0 is the warm-up (a fifth of the requests), then `rounds` measured rounds.
  for (let round = 0; round <= rounds; round++) {
    loads.push(loadavg()[0]!);
    for (const c of CELLS) {
      for (let i = 0; i < setups.length; i++) {
        const s = setups[(i + round) % setups.length]!;
        const x = await measure(s, c, round, round === 0 ? 0.2 : quick ? 0.2 : 1);
        if (round > 0) samples.push(x);
        if (round > 0) console.error(`r${round} ${c.id.padEnd(16)} ${s.name.padEnd(10)} p50 ${x.total.p50.toFixed(2)} ms  ttfb ${x.ttfb.p50.toFixed(2)} ms  ${Math.round(x.rps)} req/s  cpu ${x.cpuMsPerRequest.toFixed(3)} ms/req  rss ${x.peakRssMb.toFixed(0)} MB`);
      }
    }
  }
  loads.push(loadavg()[0]!);
  const meta = {
    date: new Date().toISOString(),
    bun: Bun.version,
    floorRuntime: tls.info.runtime,
    bottle: compiled ? "bottle (the compiled release build)" : bottleCmd.join(" ").replace(root, "."),
    ...(baselineRev ? { baseline: baselineRev } : {}),
    cpus: navigator.hardwareConcurrency,
    rounds,
    quick,
    args: args.join(" "),
    durationS: Math.round((performance.now() - started) / 1000),
    load: { min: Math.min(...loads), max: Math.max(...loads), perRound: loads },
    idleRssMb: idleRss,
  };
  const section = renderMarkdown(meta, samples);
  if (!quick) {
    publishBench(root, { results: "proxy.json", data: { meta, samples }, marker: "proxy", section });
  }
  console.log(section);
} finally {
  for (const p of procs) p.kill();
  rmSync(work, { recursive: true, force: true });
}
