/**
 * bottle's proxy with the metering hooks alone (no ledger, no budgets): the proxy's own path, for telling
 * apart what the proxy costs from what recording and admission cost in the same benchmark run. Prints
 * {"url"} as one JSON line on stdout, then serves until killed.
 *
 * Usage: metered-only.ts <upstream-port> <bottle-ca-dir>   (trusts NODE_EXTRA_CA_CERTS for the upstream)
 */
import { readFileSync } from "node:fs";
import { meteringHooks } from "../../src/metering/proxy-hooks.ts";
import { createProxy } from "../../src/proxy/proxy.ts";

const [port, caDir] = process.argv.slice(2);
const extra = process.env.NODE_EXTRA_CA_CERTS;
const proxy = createProxy({ caDir: caDir!, hooks: meteringHooks(() => undefined), upstreamCa: extra ? [readFileSync(extra, "utf8")] : [] });
const run = await proxy.openRun({ runId: "bench-metered", provider: "claude", routes: [{ host: "api.anthropic.com", upstream: `https://127.0.0.1:${port}` }] });
console.log(JSON.stringify({ url: run.proxyUrl }));
