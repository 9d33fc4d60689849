/**
 * `bottle proxy`: run the metering proxy in the foreground for an agent outside any sandbox. Prints the
 * `export` lines (proxy URL, CA variables) to stdout and audit lines to stderr; stops on Ctrl-C / SIGTERM.
 */
import { defineCommand } from "citty";
import { UsageError } from "../../errors.ts";
import { EGRESS_LOG_LEVELS, PROVIDERS, type EgressLogLevel, type ProviderName } from "../../manifest/types.ts";
import { homePaths } from "../../paths.ts";
import { PROVIDER_TABLE, providerRoutes } from "../../providers/index.ts";
import { runProxyCommand } from "../../proxy/foreground.ts";

export default defineCommand({
  meta: { name: "proxy", description: "Run the metering proxy in the foreground and print the environment an agent needs." },
  args: {
    provider: { type: "string", description: `Only this provider's hosts (${PROVIDERS.join(", ")}); default all.` },
    upstream: { type: "string", description: "Send the metered API hosts to this base URL (a gateway)." },
    simulate: { type: "boolean", description: "Answer the metered API hosts with bottle's built-in simulated provider." },
    log: { type: "string", description: "Audit lines to print: blocks (denials only) or full (default)." },
    port: { type: "string", description: "Listen on this loopback port (default: a free one)." },
    json: { type: "boolean", description: "Print {runId, port, socketPath, env} as JSON instead of export lines." },
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
    return runProxyCommand({
      caDir: homePaths().ca,
      routes,
      meteredHosts,
      ...(providers.length === 1 ? { provider: providers[0] } : {}),
      ...(args.upstream ? { upstream: args.upstream } : {}),
      simulate: !!args.simulate,
      log: level as EgressLogLevel,
      ...(port ? { port } : {}),
      json: !!args.json,
    });
  },
});

function parseProvider(v: string): ProviderName {
  if ((PROVIDERS as readonly string[]).includes(v)) return v as ProviderName;
  throw new UsageError(`unknown provider ${v}`, { key: "--provider", fix: `use one of ${PROVIDERS.join(", ")}` });
}

function dedupe<T extends { host: string }>(routes: T[]): T[] {
  const seen = new Set<string>();
  return routes.filter((r) => !seen.has(r.host) && seen.add(r.host));
}
