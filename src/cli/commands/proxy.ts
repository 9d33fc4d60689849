/**
 * `bottle proxy`: run the metering proxy in the foreground for an agent outside any sandbox. Prints the
 * `export` lines (proxy URL, CA variables) to stdout and audit lines to stderr; stops on Ctrl-C / SIGTERM.
 * The session is a run in the ledger: every metered exchange lands in usage_events under its id, and every
 * audit record the `--log` level keeps in egress_audit. Budgets apply as to any run: the global budget in
 * settings.yml and `--budget N` for this session. There is no bottle to freeze or kill, so crossing one
 * always cuts the session off (its requests are refused; `bottle budget restore <run>` lifts it).
 * Like any run it leaves a signed provenance record when it ends (its path is printed on stderr), or at the
 * next start when its process died; see docs/provenance.md for what a session's record holds.
 */
import { defineCommand } from "citty";
import { UsageError } from "../../errors.ts";
import { EGRESS_LOG_LEVELS, PROVIDERS, type EgressLogLevel, type ProviderName } from "../../manifest/types.ts";
import { bottleHome, homePaths } from "../../paths.ts";
import { PROVIDER_TABLE, providerRoutes } from "../../providers/index.ts";
import { runProxyCommand } from "../../proxy/foreground.ts";
import { parseBudget } from "../budget-flag.ts";
import { openCliLedger } from "../ledger.ts";
import { endRun, ledgerHooks, registerRun, type LedgerDb, type LedgerHooks } from "../../ledger/index.ts";
import { composeHooks } from "../../enforce/compose-hooks.ts";
import { describeScope } from "../../budget/precedence.ts";
import { launchBudget } from "../../enforce/plan.ts";
import { budgetsFor } from "../../enforce/admission.ts";
import { finishPending, makeRecord, writeOpening } from "../../provenance/index.ts";
import { proxyOpening } from "../../provenance/proxy-opening.ts";
import { sqlCommandQueue, sqlEnforceStore } from "../../enforce/sql-store.ts";
import { startEnforcement, type Enforcement } from "../../enforce/start.ts";
import { loadSettings } from "../../manifest/index.ts";
import { log } from "../../log.ts";

export default defineCommand({
  meta: { name: "proxy", description: "Run the metering proxy in the foreground and print the environment an agent needs." },
  args: {
    provider: { type: "string", description: `Only this provider's hosts (${PROVIDERS.join(", ")}); default all.` },
    upstream: { type: "string", description: "Send the metered API hosts to this base URL (a gateway)." },
    simulate: { type: "boolean", description: "Answer the metered API hosts with bottle's built-in simulated provider." },
    log: { type: "string", description: "Audit lines to print: blocks (denials only) or full (default)." },
    port: { type: "string", description: "Listen on this loopback port (default: a free one)." },
    json: { type: "boolean", description: "Print {runId, port, socketPath, env} as JSON instead of export lines." },
    budget: { type: "string", description: "Cut this session off after N tokens per provider (the global budget applies too)." },
  },
  async run({ args }) {
    const providers = args.provider ? [parseProvider(args.provider)] : [...PROVIDERS];
    const routes = dedupe(providers.flatMap((p) => providerRoutes(PROVIDER_TABLE[p])));
    const meteredHosts = providers.flatMap((p) => PROVIDER_TABLE[p].meteredHosts.map((h) => h.host));
    if (args.upstream && args.simulate) throw new UsageError("--upstream and --simulate cannot be combined", { key: "--simulate", fix: "pick one" });
    const level = args.log ?? "full";
    if (!(EGRESS_LOG_LEVELS as readonly string[]).includes(level)) throw new UsageError(`--log must be one of ${EGRESS_LOG_LEVELS.join(", ")}`, { key: "--log", fix: "use --log blocks or --log full" });
    const port = args.port === undefined ? undefined : Number(args.port);
    if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) throw new UsageError(`--port ${args.port} is not a port number`, { key: "--port", fix: "use 1-65535, or omit it" });
    const provider = providers.length === 1 ? providers[0] : undefined;
    const budget = parseBudget(args.budget);
    const settings = loadSettings();
    const home = bottleHome();
    const db = await openCliLedger();
    let hooks: LedgerHooks | undefined;
    let enforcement: Enforcement | undefined;
    let runId: string | undefined;
    return runProxyCommand({
      caDir: homePaths(home).ca,
      async hooks(run) {
        // Runs whose process died before writing their record get it now, as at any run's start.
        await finishPending(db, home);
        const b = launchBudget({
          runId: run.runId,
          settings,
          agent: { name: "", file: "" },
          composed: { budgetLayers: [], requested: [] },
          bottles: [],
          ...(budget !== undefined ? { budgetFlag: budget } : {}),
        });
        await registerRun(db, { id: run.runId, label: "proxy", agent: "", ...(provider ? { provider } : {}) });
        try {
          writeOpening(
            home,
            proxyOpening({
              runId: run.runId,
              label: "proxy",
              providers,
              routes: run.routes,
              ...(run.simulatorUrl ? { simulatorUrl: run.simulatorUrl } : {}),
              log: level,
              budgets: providers.flatMap((p) => budgetsFor(b.plan, p)),
              preflight: b.preflight,
            }),
          );
        } catch (e) {
          await endRun(db, run.runId, { stopReason: "error" }).catch(() => undefined);
          throw e;
        }
        runId = run.runId;
        hooks = ledgerHooks(db, { id: run.runId, agent: "", ...(provider ? { provider } : {}) });
        for (const g of Object.values(b.plan.budgets)) if (g) log.info(`budget: ${g.provider} ${g.tokens} tokens${g.per ? ` per ${g.per}` : ""} (${describeScope(g)}); crossing it cuts this session off`);
        const ledger = hooks;
        enforcement = await startEnforcement({ store: sqlEnforceStore(db), queue: sqlCommandQueue(db), plan: b.plan, policy: "cutoff", env: process.env, ledgerProblem: () => ledger.problem() });
        return composeHooks(hooks, enforcement.hooks);
      },
      async onStop(end) {
        try {
          enforcement?.stop();
          await hooks?.close();
          if (runId) {
            // Stopped by a signal, or the listener could not open (then the run ends as a failed launch does).
            await endRun(db, runId, end?.failed ? { stopReason: "error" } : { exitCode: 0, stopReason: "signal" });
            await recordSession(db, home, runId);
          }
        } finally {
          await db.destroy();
        }
      },
      routes,
      meteredHosts,
      ...(provider ? { provider } : {}),
      providers,
      ...(args.upstream ? { upstream: args.upstream } : {}),
      simulate: !!args.simulate,
      log: level as EgressLogLevel,
      ...(port ? { port } : {}),
      json: !!args.json,
    });
  },
});

/** The session's signed record, its path on stderr; a failure to make it is reported, the session still ends. */
async function recordSession(db: LedgerDb, home: string, runId: string): Promise<void> {
  try {
    const t0 = performance.now();
    const made = await makeRecord(db, home, runId, "run-end");
    log.debug(`run ${runId}: provenance record made and signed in ${(performance.now() - t0).toFixed(1)} ms`);
    // Written as is (the log sink would restyle the backquotes), as `bottle run` names its record.
    process.stderr.write(`bottle: provenance record ${made.path} (${made.hash}); show it with \`bottle report ${runId}\`\n`);
  } catch (e) {
    log.warn(`bottle: run ${runId}: its provenance record could not be written: ${(e as Error).message}`);
  }
}

function parseProvider(v: string): ProviderName {
  if ((PROVIDERS as readonly string[]).includes(v)) return v as ProviderName;
  throw new UsageError(`unknown provider ${v}`, { key: "--provider", fix: `use one of ${PROVIDERS.join(", ")}` });
}

function dedupe<T extends { host: string }>(routes: T[]): T[] {
  const seen = new Set<string>();
  return routes.filter((r) => !seen.has(r.host) && seen.add(r.host));
}
