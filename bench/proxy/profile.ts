/**
 * Where `bottle proxy`'s CPU goes, the way docs/benchmarks.md reports it, as a command instead of a recipe:
 * the real `bottle proxy --upstream` from source under `bun --cpu-prof`, with the benchmark's global monthly
 * budget in settings.yml, serves N JSON keep-alive requests at c=1 and then N at c=50 (bench/proxy's client
 * and upstream, each its own process), then stops; the profile is summarised by where the samples are:
 * inclusive shares (a sample counts for every area on its stack) for the ledger, enforcement and budget
 * code, the query builder, the metering parser and the proxy, and the functions with the most self time.
 *
 * Run: bun bench/proxy/profile.ts [requests per phase, default 3000]
 *   → bench/results/proxy-profile.json (the summary; the .cpuprofile itself is left in a temp directory)
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateCa } from "../../src/ca/authority.ts";
import { startReady } from "./proc.ts";

const root = join(import.meta.dir, "../..");
const n = Number(process.argv[2] ?? 3000);
const work = mkdtempSync(join(tmpdir(), "bottle-profile-"));
const profDir = join(work, "prof");
const bottleHome = join(work, "bottle-home");
const upstreamCa = loadOrCreateCa(join(work, "upstream-ca"));
const bottleCa = loadOrCreateCa(join(bottleHome, "ca"));
writeFileSync(join(work, "upstream-ca.pem"), upstreamCa.certPem);
writeFileSync(join(bottleHome, "settings.yml"), "budget:\n  claude: { tokens: 1000000000000, per: month }\n");
const env: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/_proxy$/i.test(k) && k !== "NODE_EXTRA_CA_CERTS") env[k] = v;

const start = (cmd: string[], extra: Record<string, string> = {}) => startReady(cmd, { ...env, ...extra });

const up = await start(["bun", join(import.meta.dir, "upstream.ts"), join(work, "upstream-ca")]);
// BUN_GC_TIMER_DISABLE set here: the proxy runs as it would after its own re-exec, in one process to profile.
const bottle = await start(["bun", "--cpu-prof", `--cpu-prof-dir=${profDir}`, join(root, "src/cli/main.ts"), "proxy", "--provider", "claude", "--upstream", `https://127.0.0.1:${up.info.port}`, "--json", "--log", "blocks"], {
  BOTTLE_HOME: bottleHome,
  HOME: join(work, "home"),
  NODE_EXTRA_CA_CERTS: join(work, "upstream-ca.pem"),
  BUN_GC_TIMER_DISABLE: "1",
});
const proxy = (bottle.info.env as Record<string, string>).HTTPS_PROXY!;
const load0 = loadavg()[0]!;
for (const concurrency of [1, 50]) {
  const spec = JSON.stringify({ url: "https://api.anthropic.com/v1/messages", proxy, workload: "json", concurrency, requests: n, keepAlive: true, ca: [upstreamCa.certPem, bottleCa.certPem] });
  const c = Bun.spawn(["bun", join(import.meta.dir, "client.ts"), spec], { env, stdout: "pipe", stderr: "inherit" });
  await new Response(c.stdout).text();
  if ((await c.exited) !== 0) throw new Error(`client failed at c=${concurrency}`);
}
bottle.proc.kill("SIGINT");
await bottle.proc.exited;
up.proc.kill();
const file = readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"));
if (!file) throw new Error(`no profile written in ${profDir}`);

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const prof = JSON.parse(readFileSync(join(profDir, file), "utf8")) as { nodes: Node[]; samples: number[] };
const byId = new Map(prof.nodes.map((x) => [x.id, x]));
const parent = new Map<number, number>();
for (const x of prof.nodes) for (const c of x.children ?? []) parent.set(c, x.id);

/** Areas a sample can be in (inclusive): by the source file of any frame on its stack. */
const AREAS: Record<string, (url: string) => boolean> = {
  "ledger, enforcement and budgets (src/ledger, src/enforce, src/budget)": (u) => /\/src\/(ledger|enforce|budget)\//.test(u),
  "admission's reads (src/enforce/admission.ts)": (u) => u.endsWith("/src/enforce/admission.ts"),
  "usage writer (src/ledger/writer.ts)": (u) => u.endsWith("/src/ledger/writer.ts"),
  "query builder (kysely)": (u) => u.includes("/node_modules/kysely/"),
  "metering (src/metering)": (u) => u.includes("/src/metering/"),
  "proxy (src/proxy)": (u) => u.includes("/src/proxy/"),
};
const IDLE = new Set(["(idle)", "(program)", "(garbage collector)"]);
let busy = 0;
const inArea = Object.fromEntries(Object.keys(AREAS).map((k) => [k, 0]));
const self = new Map<string, number>();
for (const id of prof.samples) {
  const leaf = byId.get(id)!;
  if (IDLE.has(leaf.callFrame.functionName)) continue;
  busy++;
  const fn = `${leaf.callFrame.functionName || "(anonymous)"} ${leaf.callFrame.url.replace(root, ".")}:${leaf.callFrame.lineNumber + 1}`;
  self.set(fn, (self.get(fn) ?? 0) + 1);
  const urls = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) urls.add(byId.get(at)!.callFrame.url);
  for (const [k, test] of Object.entries(AREAS)) if ([...urls].some(test)) inArea[k]!++;
}
const pct = (x: number) => Math.round((1000 * x) / busy) / 10;
const summary = {
  date: new Date().toISOString(),
  bun: Bun.version,
  requestsPerPhase: n,
  phases: ["json keep-alive c=1", "json keep-alive c=50"],
  load: { start: load0, end: loadavg()[0] },
  busySamples: busy,
  inclusivePercent: Object.fromEntries(Object.entries(inArea).map(([k, v]) => [k, pct(v)])),
  topSelfPercent: [...self].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([f, v]) => ({ fn: f, percent: pct(v) })),
  profile: join(profDir, file),
};
mkdirSync(join(root, "bench/results"), { recursive: true });
writeFileSync(join(root, "bench/results/proxy-profile.json"), `${JSON.stringify(summary, null, 2)}\n`);
console.log(JSON.stringify(summary, null, 2));
