/**
 * The proxy benchmark's cells, and turning its per-round samples into the docs section: absolute figures
 * are medians over rounds, and every ratio is the median of the per-round ratios against the TLS relay
 * measured in the same round (a ratio of medians would mix rounds that ran under different load). Pure.
 */

export interface Summary {
  p50: number;
  p99: number;
}

export interface Setup {
  name: string;
  url: string;
  proxy?: string;
  /** The proxy's process, for CPU and memory; none for direct. */
  pid?: number;
}

export interface Cell {
  id: string;
  workload: "json" | "sse";
  concurrency: number;
  keepAlive: boolean;
  requests: number;
}

export interface Sample {
  round: number;
  setup: string;
  cell: string;
  requests: number;
  ttfb: Summary;
  total: Summary;
  rps: number;
  cpuMsPerRequest: number;
  peakRssMb: number;
}

const cell = (workload: "json" | "sse", concurrency: number, keepAlive: boolean, requests: number): Cell => ({
  id: `${workload} c=${concurrency} ${keepAlive ? "ka" : "new"}`,
  workload,
  concurrency,
  keepAlive,
  requests,
});

export const CELLS: Cell[] = [
  cell("json", 1, true, 300),
  cell("json", 10, true, 600),
  cell("json", 50, true, 1500),
  cell("json", 100, true, 1500),
  cell("json", 1, false, 150),
  cell("json", 10, false, 300),
  cell("json", 100, false, 500),
  cell("sse", 1, true, 60),
  cell("sse", 100, true, 300),
];

export const FLOOR = "tls relay";

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summarize(xs: number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99) };
}

export function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

type Metric = (s: Sample) => number;

/** Median over rounds of a setup's metric in a cell. */
export function med(samples: Sample[], setup: string, cellId: string, m: Metric): number {
  return median(samples.filter((s) => s.setup === setup && s.cell === cellId).map(m));
}

/** Median over rounds of (setup's metric / base's metric in the same round and cell). */
export function ratio(samples: Sample[], setup: string, cellId: string, m: Metric, base = FLOOR): number {
  const rs: number[] = [];
  for (const s of samples.filter((x) => x.setup === setup && x.cell === cellId)) {
    const b = samples.find((x) => x.setup === base && x.cell === cellId && x.round === s.round);
    if (b) rs.push(m(s) / m(b));
  }
  return median(rs);
}

const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : "–");
const x = (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : "–");
const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–");

export interface Goal {
  what: string;
  cell: string;
  metric: Metric;
  unit: string;
  digits: number;
  /** The ratio bottle/floor must be at most (or, with atLeast, at least) this. */
  limit: number;
  atLeast?: boolean;
}

export const GOALS: Goal[] = [
  { what: "JSON keep-alive, c=1, p50", cell: "json c=1 ka", metric: (s) => s.total.p50, unit: "ms", digits: 2, limit: 2 },
  { what: "requests/s at c=50 (JSON, keep-alive)", cell: "json c=50 ka", metric: (s) => s.rps, unit: "req/s", digits: 0, limit: 0.5, atLeast: true },
  { what: "SSE time to first byte at c=100, p50", cell: "sse c=100 ka", metric: (s) => s.ttfb.p50, unit: "ms", digits: 2, limit: 1.5 },
  { what: "proxy CPU per 200-event SSE stream (c=100)", cell: "sse c=100 ka", metric: (s) => s.cpuMsPerRequest, unit: "ms", digits: 2, limit: 1.5 },
];

export interface GoalRow {
  goal: Goal;
  floor: number;
  /** Per setup measured against the floor: its median figure, the median per-round ratio, and the verdict. */
  by: Record<string, { value: number; ratio: number; met: boolean }>;
}

export function goalRows(samples: Sample[], setups = ["bottle", "proxy only"]): GoalRow[] {
  return GOALS.map((goal) => {
    const by: GoalRow["by"] = {};
    for (const s of setups) {
      const r = ratio(samples, s, goal.cell, goal.metric);
      by[s] = { value: med(samples, s, goal.cell, goal.metric), ratio: r, met: goal.atLeast ? r >= goal.limit : r <= goal.limit };
    }
    return { goal, floor: med(samples, FLOOR, goal.cell, goal.metric), by };
  });
}

/** bottle against the baseline revision's build, same run: the change's own effect, per-round ratios. */
function baselineLine(meta: Record<string, unknown>, samples: Sample[]): string {
  const base = "bottle (baseline)";
  const r = (cell: string, m: Metric) => x(ratio(samples, "bottle", cell, m, base));
  return [
    `bottle against **bottle (baseline)**, the release build of \`${String(meta.baseline)}\` run beside it (median of per-round ratios):`,
    `CPU per JSON request at c=50 ${r("json c=50 ka", (y) => y.cpuMsPerRequest)},`,
    `requests/s at c=50 ${r("json c=50 ka", (y) => y.rps)},`,
    `JSON c=1 keep-alive p50 ${r("json c=1 ka", (y) => y.total.p50)},`,
    `SSE c=100 time to first byte ${r("sse c=100 ka", (y) => y.ttfb.p50)},`,
    `CPU per SSE stream ${r("sse c=100 ka", (y) => y.cpuMsPerRequest)}.`,
  ].join(" ");
}

export function renderMarkdown(meta: Record<string, unknown>, samples: Sample[]): string {
  const load = meta.load as { min: number; max: number };
  const order = ["direct", "tcp relay", "tls relay", "proxy only", "bottle", "bottle (baseline)"];
  const setups = [...new Set(samples.map((s) => s.setup))].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const lines = [
    "<!-- proxy-bench:start -->",
    "## Proxy: bottle against the floor",
    "",
    `Generated by \`bun bench/proxy/run.ts${meta.args ? ` ${meta.args}` : ""}\` (${String(meta.date).slice(0, 10)}, Bun ${meta.bun}, ${meta.cpus} CPUs shared with other work, ${meta.rounds} rounds after a warm-up, ${meta.durationS} s; 1-minute load average ${f(load.min, 1)}–${f(load.max, 1)}). Floor relays ran on ${meta.floorRuntime}; bottle ran as \`${meta.bottle} proxy --upstream …\` with a global monthly budget in settings.yml.`,
    "",
    "Each request is an Anthropic Messages call to the simulated provider over TLS on loopback, made with Bun's",
    "fetch: `json` is a non-streamed reply (~2 KB), `sse` a streamed one of ~200 events (the first at once, the",
    "rest after a 5 ms pause, so time to first byte is the first event). Setups: **direct**; a **tcp relay**",
    "(a CONNECT proxy that pipes bytes); a **tls relay**, the floor for any intercepting proxy (terminates the",
    "client's TLS, re-encrypts upstream, no HTTP parsing); **bottle**, the real `bottle proxy` command",
    "with the hooks it installs (metering, ledger, budgets); and **proxy only**, bottle's proxy with the metering",
    "hooks alone (no ledger, no budgets: the proxy's own path). Upstream, each proxy and the client are separate",
    "processes. The setups are interleaved in every cell, their order rotating each round; absolute figures are",
    "medians over rounds, and every ratio is the median of per-round ratios against the tls relay.",
    "",
    "### Goals (against the tls relay, same run)",
    "",
    "| metric | tls relay | bottle | ratio | met | proxy only | ratio | met | goal |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const g of goalRows(samples)) {
    const v = (n: number) => `${f(n, g.goal.digits)} ${g.goal.unit}`;
    const cols = ["bottle", "proxy only"].map((s) => {
      const b = g.by[s]!;
      return `${v(b.value)} | ${x(b.ratio)} | ${b.met ? "yes" : "**no**"}`;
    });
    lines.push(`| ${g.goal.what} | ${v(g.floor)} | ${cols.join(" | ")} | ${g.goal.atLeast ? "≥" : "≤"} ${g.goal.limit}× |`);
  }
  const rssCell = "sse c=100 ka";
  const idle = meta.idleRssMb as Record<string, number>;
  lines.push(
    "",
    `Memory: peak RSS while serving 100 concurrent streams — ${setups.filter((s) => s !== "direct").map((s) => `${s} ${f(med(samples, s, rssCell, (y) => y.peakRssMb), 0)} MB (idle ${f(idle[s] ?? NaN, 0)} MB)`).join(", ")}.`,
    ...(setups.includes("bottle (baseline)") ? [baselineLine(meta, samples)] : []),
    `CPU per JSON request at c=50 — ${setups.filter((s) => s !== "direct").map((s) => `${s} ${f(med(samples, s, "json c=50 ka", (y) => y.cpuMsPerRequest), 3)} ms`).join(", ")}.`,
    "",
    "### Every cell",
    "",
    "| cell | setup | p50 ms | p99 ms | TTFB p50 ms | req/s | proxy CPU ms/req | p50 × tls relay | TTFB × tls relay | req/s × tls relay |",
    "|---|---|---|---|---|---|---|---|---|---|",
  );
  for (const c of CELLS) {
    for (const s of setups) {
      if (!samples.some((y) => y.setup === s && y.cell === c.id)) continue;
      const m = (fn: Metric) => med(samples, s, c.id, fn);
      const r = (fn: Metric) => ratio(samples, s, c.id, fn);
      lines.push(`| ${c.id} | ${s} | ${f(m((y) => y.total.p50))} | ${f(m((y) => y.total.p99))} | ${f(m((y) => y.ttfb.p50))} | ${int(m((y) => y.rps))} | ${f(m((y) => y.cpuMsPerRequest), 3)} | ${x(r((y) => y.total.p50))} | ${x(r((y) => y.ttfb.p50))} | ${x(r((y) => y.rps))} |`);
    }
  }
  lines.push(
    "",
    "`ka` is keep-alive, `new` a new connection (and TLS handshake) per request. Rerun with `bun bench/proxy/run.ts` (`--rounds N`, `--compiled` to measure the release binary, `--quick` for a smoke run that writes nothing).",
    "<!-- proxy-bench:end -->",
  );
  return lines.join("\n");
}
