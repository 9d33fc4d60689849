/**
 * Everything that runs around a bottle for as long as its agent does, opened in dependency order and
 * closed in reverse: the ledger, the (optional) simulated provider, the proxy with the run's own listener,
 * and enforcement. The hooks on that listener are metering + ledger first (usage and audit rows), then
 * budgets (admission, settlement, the cutoff policy), then a line on stderr for each refused or denied
 * request, so a headless log says why the agent stopped (and, headless, one for each metered request). If any step fails, the steps already taken are
 * undone before the error propagates: a failed launch leaves no listener, poller or simulator behind.
 */
import { BackendRunControl } from "../backends/run-control.ts";
import { createBackend } from "../backends/select.ts";
import type { Backend } from "../backends/types.ts";
import { composeHooks } from "../enforce/compose-hooks.ts";
import { sqlCommandQueue, sqlEnforceStore } from "../enforce/sql-store.ts";
import { startEnforcement, type Enforcement } from "../enforce/start.ts";
import { ledgerHooks, ledgerPath, METER_STATE_KEY, openLedger, type LedgerDb, type LedgerHooks } from "../ledger/index.ts";
import { log } from "../log.ts";
import type { Route } from "../manifest/types.ts";
import { billedTokens } from "../metering/tally.ts";
import type { MeterResult } from "../metering/types.ts";
import { homePaths } from "../paths.ts";
import type { ProxyHooks } from "../proxy/hooks.ts";
import { createProxy, type EgressProxy, type RunHandle } from "../proxy/proxy.ts";
import type { Simulator } from "../simulator/server.ts";
import { routesToSimulator, startRunSimulator } from "./simulated.ts";
import type { LaunchPlan } from "./types.ts";

export interface RunServices {
  db: LedgerDb;
  backend: Backend;
  proxy: EgressProxy;
  run: RunHandle;
  ledger: LedgerHooks;
  enforcement: Enforcement;
  sim?: Simulator;
  routes: Route[];
  /** Closes the ledger writer (after flushing), stops enforcement, closes the listener, the proxy and the simulator. */
  close(): Promise<void>;
}

export interface ServicesOptions {
  env: Record<string, string | undefined>;
  /** Called once the ledger is open and before the proxy starts (register the run, or mark it resumed). */
  onLedger(db: LedgerDb): Promise<void>;
}

/**
 * Headless runs print one line per metered exchange with the run's running total, so a CI log shows
 * what was spent as it was spent. (Never on a PTY: it would write across the agent's screen.)
 */
function meterLog(): ProxyHooks {
  let total = 0;
  return {
    onResponseEnd(ctx) {
      const r = ctx.state[METER_STATE_KEY] as MeterResult | undefined;
      if (!r || r.kind !== "usage") return;
      total += billedTokens(r);
      const u = r.usage;
      log.info(`metered: ${ctx.method} ${ctx.host}${ctx.path.split("?")[0]}${r.model ? ` ${r.model}` : ""}: ${u.totalTokens} tokens (${u.inputTokens} in, ${u.outputTokens} out${r.estimated ? ", partly estimated" : ""}); run total ${total}`);
    },
  };
}

/** Refused and denied requests, one line each: the reason an agent stopped is never only in the ledger. */
const refusalLog: ProxyHooks = {
  onAudit(r) {
    if (r.decision === "refuse" || r.decision === "deny") log.warn(`egress ${r.decision}: ${r.method} ${r.host}${r.path} → ${r.status}${r.reason ? ` (${r.reason})` : ""}`);
  },
};

export async function openServices(plan: LaunchPlan, o: ServicesOptions): Promise<RunServices> {
  const undo: Array<() => Promise<void> | void> = [];
  const rollback = async () => {
    for (const f of undo.reverse()) await Promise.resolve(f()).catch((e: unknown) => log.debug(`cleanup: ${String(e)}`));
  };
  try {
    const db = await openLedger({ path: ledgerPath(plan.settings, plan.home) });
    undo.push(() => db.destroy());
    await o.onLedger(db);
    let routes = plan.routes;
    let sim: Simulator | undefined;
    if (plan.simulated) {
      sim = startRunSimulator(plan.provider);
      const s = sim;
      undo.push(() => s.close());
      routes = routesToSimulator(routes, sim.url);
      log.info(`bottle: run ${plan.runId} uses the SIMULATED provider at ${sim.url} (no real API, nothing billed)`);
    }
    const backend = createBackend(plan.backend.name, plan.home);
    const ledger = ledgerHooks(db, { id: plan.runId, agent: plan.agent.name, bottles: plan.bottle.requested, chain: plan.bottle.chain, provider: plan.provider });
    undo.push(() => ledger.close());
    const enforcement = await startEnforcement({
      store: sqlEnforceStore(db),
      queue: sqlCommandQueue(db),
      plan: plan.budgetPlan,
      policy: plan.shutdown.value,
      control: new BackendRunControl(backend, plan.home),
      env: o.env,
      ledgerProblem: () => ledger.problem(),
    });
    undo.push(() => enforcement.stop());
    const proxy = createProxy({ caDir: homePaths(plan.home).ca, env: o.env });
    undo.push(() => proxy.close());
    const run = await proxy.openRun({
      runId: plan.runId,
      routes,
      log: plan.bottle.log,
      provider: plan.provider,
      hooks: plan.headless ? composeHooks(ledger, meterLog(), enforcement.hooks, refusalLog) : composeHooks(ledger, enforcement.hooks, refusalLog),
      port: false,
    });
    undo.push(() => run.close());
    return { db, backend, proxy, run, ledger, enforcement, ...(sim ? { sim } : {}), routes, close: rollback };
  } catch (e) {
    await rollback();
    throw e;
  }
}
