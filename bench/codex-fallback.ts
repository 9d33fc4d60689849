/**
 * How long the real Codex CLI loses when bottle's proxy refuses its WebSocket to /v1/responses (426) and it
 * falls back to HTTPS streaming. The proxy relays no WebSockets, so this delay is the whole price of that
 * choice; it is measured, not guessed. Each round runs `codex exec` on the host through a MITM run of the
 * proxy whose API host goes to the simulator, and records: the first WebSocket attempt, the refusals, the
 * first HTTPS `POST /v1/responses`, and the whole run. The baseline in the same run is the time from
 * process start to the first WebSocket attempt (codex's own startup), so the fallback is reported both in
 * milliseconds and as a ratio of startup.
 *
 *   bun bench/codex-fallback.ts [rounds=5]    → bench/results/codex-fallback.json
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateCa } from "../src/ca/authority.ts";
import { LeafIssuer } from "../src/ca/leaf.ts";
import type { AuditRecord } from "../src/proxy/hooks.ts";
import { createProxy } from "../src/proxy/proxy.ts";
import { PROVIDER_TABLE, providerRoutes } from "../src/providers/index.ts";
import { startSimulator } from "../src/simulator/server.ts";

const root = join(import.meta.dir, "..");
const codexBin = join(root, ".cache/agents/node_modules/.bin/codex");
if (!existsSync(codexBin)) throw new Error(`codex is not installed at ${codexBin}: run bash scripts/install-agents.sh`);
const rounds = Number(process.argv[2] ?? 5);

const work = mkdtempSync(join(tmpdir(), "codex-fallback-"));
const upstreamCa = loadOrCreateCa(join(work, "upstream-ca"), "bench upstream CA");
const leaf = new LeafIssuer(upstreamCa).issue("127.0.0.1");
const sim = startSimulator({ text: "ok", tls: { cert: leaf.certPem, key: leaf.keyPem } });

interface Round {
  startupMs: number;
  wsAttempts: number;
  fallbackMs: number;
  totalMs: number;
  exitCode: number;
}

async function round(i: number): Promise<Round> {
  const events: { at: number; kind: "ws" | "post" }[] = [];
  const proxy = createProxy({
    caDir: join(work, "bottle-ca"),
    upstreamCa: [upstreamCa.certPem],
    hooks: {
      onRequest(ctx) {
        if (ctx.method === "POST" && ctx.path.startsWith("/v1/responses")) events.push({ at: performance.now(), kind: "post" });
      },
      onAudit(r: AuditRecord) {
        if (r.status === 426) events.push({ at: performance.now(), kind: "ws" });
      },
    },
  });
  const p = PROVIDER_TABLE.codex;
  const run = await proxy.openRun({ runId: `fallback-${i}`, provider: "codex", routes: providerRoutes(p).map((r) => ({ ...r, upstream: sim.url })) });
  const home = mkdtempSync(join(work, "home-"));
  const cwd = mkdtempSync(join(work, "ws-"));
  const started = performance.now();
  const child = Bun.spawn([codexBin, ...p.argv({ prompt: "Say hi.", json: true }).slice(1)], {
    cwd,
    env: { PATH: process.env.PATH!, HOME: home, ...p.env, ...p.caEnv(run.caCertPath), HTTPS_PROXY: run.proxyUrl, HTTP_PROXY: run.proxyUrl },
    stdout: "ignore",
    stderr: "ignore",
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  const exitCode = await child.exited;
  clearTimeout(timer);
  const totalMs = performance.now() - started;
  await run.close();
  await proxy.close();
  const ws = events.filter((e) => e.kind === "ws");
  const post = events.find((e) => e.kind === "post");
  if (ws.length === 0 || !post) throw new Error(`round ${i}: expected a refused WebSocket then an HTTPS POST, saw ${JSON.stringify(events.map((e) => e.kind))} (exit ${exitCode})`);
  return { startupMs: ws[0]!.at - started, wsAttempts: ws.filter((e) => e.at < post.at).length, fallbackMs: post.at - ws[0]!.at, totalMs, exitCode };
}

const results: Round[] = [];
try {
  for (let i = 0; i < rounds; i++) {
    const r = await round(i);
    results.push(r);
    console.error(`round ${i + 1}/${rounds}: startup ${r.startupMs.toFixed(0)} ms, ${r.wsAttempts} refused WebSocket attempt(s), fallback ${r.fallbackMs.toFixed(0)} ms, run ${r.totalMs.toFixed(0)} ms, exit ${r.exitCode}`);
  }
} finally {
  await sim.close();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const summary = {
  when: new Date().toISOString(),
  codex: PROVIDER_TABLE.codex.npm.version,
  rounds,
  medianStartupMs: Math.round(median(results.map((r) => r.startupMs))),
  medianFallbackMs: Math.round(median(results.map((r) => r.fallbackMs))),
  maxFallbackMs: Math.round(Math.max(...results.map((r) => r.fallbackMs))),
  wsAttemptsPerRun: median(results.map((r) => r.wsAttempts)),
  medianRunMs: Math.round(median(results.map((r) => r.totalMs))),
  fallbackOverStartup: Number((median(results.map((r) => r.fallbackMs)) / median(results.map((r) => r.startupMs))).toFixed(2)),
  fallbackShareOfRun: Number((median(results.map((r) => r.fallbackMs)) / median(results.map((r) => r.totalMs))).toFixed(3)),
  rawRounds: results,
};
mkdirSync(join(root, "bench/results"), { recursive: true });
writeFileSync(join(root, "bench/results/codex-fallback.json"), `${JSON.stringify(summary, null, 2)}\n`);
console.log(JSON.stringify(summary, null, 2));
