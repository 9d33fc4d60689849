/**
 * `bottle proxy`: the metering proxy on its own, in the foreground, for agents that run without a sandbox.
 * It opens one run with the chosen providers' routes (optionally sent to an `--upstream` gateway or to the
 * built-in simulator), prints the `export` lines an agent's shell needs to stdout, logs audit lines to
 * stderr, and closes cleanly on SIGINT/SIGTERM. Policy arrives as a hooks factory, so metering and budgets
 * are wired in by the caller (the CLI command) and this module imports neither.
 */
import { writeCaBundle } from "../ca/bundle.ts";
import { log } from "../log.ts";
import type { EgressLogLevel, ProviderName, Route } from "../manifest/types.ts";
import { startSimulator, type Simulator } from "../simulator/server.ts";
import { agentProxyEnv, exportLines } from "./agent-env.ts";
import type { AuditRecord, ProxyHooks } from "./hooks.ts";
import { createProxy, type EgressProxy, type RunHandle } from "./proxy.ts";

export interface ProxyCommandOptions {
  caDir: string;
  /** The allowlist; the caller derives it from the providers (and their metered hosts). */
  routes: Route[];
  /** Metered hosts to point at `upstream` or the simulator. */
  meteredHosts: string[];
  provider?: ProviderName;
  /** The providers whose hosts `routes` holds (for what a denial says); default all of them. */
  providers?: readonly ProviderName[];
  upstream?: string;
  /** Start the built-in simulated provider and send the metered hosts to it. */
  simulate?: boolean;
  log?: EgressLogLevel;
  /** Fixed loopback port; default a free one. */
  port?: number;
  json?: boolean;
  runId?: string;
  /**
   * Builds the run's hooks (metering, budgets); audit lines are printed in any case. It is told the routes
   * as the listener will have them (the gateway's or the simulator's URL in), e.g. for the run's record.
   */
  hooks?: (run: { runId: string; routes: Route[]; simulatorUrl?: string }) => ProxyHooks | Promise<ProxyHooks>;
  /**
   * Called once the proxy has stopped accepting and closed (e.g. to flush and end the run in the ledger);
   * with `failed` when it could not start after `hooks` ran (a port in use), so the run is not left open.
   */
  onStop?: (end?: { failed: Error }) => void | Promise<void>;
  /** Resolves when the proxy should stop; default SIGINT/SIGTERM. */
  until?: Promise<unknown>;
  out?: (s: string) => void;
}

function auditLine(r: AuditRecord): string {
  return `${r.status} ${r.decision} ${r.method} ${r.host}${r.path}${r.reason ? ` — ${r.reason}` : ""} (${r.bytesUp}↑ ${r.bytesDown}↓ ${r.durationMs}ms)`;
}

/**
 * What a "no route" denial says under `bottle proxy`: it has no bottle and no egress.routes, only the API hosts
 * of the providers it serves (`--provider`), so the message names those and the two ways to reach another host.
 */
export function proxyAllowlist(routes: readonly Route[], providers?: readonly ProviderName[]): string {
  const hosts = [...new Set(routes.map((r) => r.host))].join(", ");
  const which = providers && providers.length === 1 ? `--provider ${providers[0]}: ${hosts}); omit --provider to serve every provider's API hosts` : `every provider's API hosts: ${hosts})`;
  return `bottle proxy's allowlist (${which}; other hosts need \`bottle run\` with a bottle whose egress.routes allow them`;
}

function signals(): Promise<string> {
  return new Promise((resolve) => {
    const on = (s: string) => () => resolve(s);
    process.once("SIGINT", on("SIGINT"));
    process.once("SIGTERM", on("SIGTERM"));
  });
}

export async function runProxyCommand(o: ProxyCommandOptions): Promise<number> {
  // Listen for the stop signal before anything is printed: a caller may signal as soon as it reads stdout.
  const stop = o.until ?? signals();
  const runId = o.runId ?? `proxy-${new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14)}-${process.pid}`;
  let sim: Simulator | undefined;
  const target = o.simulate ? (sim = startSimulator({ closeConnections: true })).url : o.upstream;
  const metered = new Set(o.meteredHosts);
  const routes = target ? o.routes.map((r) => (metered.has(r.host) ? { ...r, upstream: target } : r)) : o.routes;
  let proxy: EgressProxy | undefined;
  const open = async (): Promise<[EgressProxy, RunHandle]> => {
    const extra = o.hooks ? await o.hooks({ runId, routes, ...(sim ? { simulatorUrl: sim.url } : {}) }) : {};
    const hooks: ProxyHooks = {
      ...extra,
      onAudit(record, level) {
        log.info(`proxy: ${auditLine(record)}`);
        extra.onAudit?.(record, level);
      },
    };
    const p = (proxy = createProxy({ caDir: o.caDir, hooks }));
    return [p, await p.openRun({ runId, routes, log: o.log ?? "full", ...(o.provider ? { provider: o.provider } : {}), allowlist: proxyAllowlist(o.routes, o.providers ?? (o.provider ? [o.provider] : undefined)), ...(o.port ? { listenPort: o.port } : {}) })];
  };
  const [px, run] = await open().catch(async (e: unknown) => {
    await proxy?.close().catch(() => undefined);
    await sim?.close();
    await o.onStop?.({ failed: e as Error });
    throw e;
  });
  const env = agentProxyEnv({ proxyUrl: run.proxyUrl!, caCertPath: run.caCertPath, bundlePath: writeCaBundle(px.ca) });
  const out = o.out ?? ((s: string) => void process.stdout.write(s));
  out(o.json ? `${JSON.stringify({ runId, port: run.port, socketPath: run.socketPath, env })}\n` : `${exportLines(env)}\n`);
  log.info(`proxy: run ${runId} listening on 127.0.0.1:${run.port}${sim ? ` (simulated provider at ${sim.url})` : ""}; ${routes.length} routes; Ctrl-C to stop`);
  const why = await stop;
  log.info(`proxy: ${typeof why === "string" ? why : "stop"} received, shutting down`);
  await run.close();
  await px.close();
  await sim?.close();
  await o.onStop?.();
  return 0;
}
