/**
 * Secret custody and the path policy at the proxy, with real curl and a real ledger file:
 * - an `auth:` route's key is injected only over TLS to port 443 (or the route's `upstream:`). A plain
 *   http:// request, or https:// to another port, is refused with 403 before anything is sent, so the
 *   listener on the far end never sees the key (on the old code it received `x-api-key: sk-real-…`);
 * - a route's `unmetered: ["/v1/files"]` lets uploads through to the upstream, audited as `unmetered` and
 *   recorded as an unmetered call in the ledger; batch submission on the same host is refused, audited,
 *   and never reaches the upstream.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { composeHooks } from "../../src/enforce/compose-hooks.ts";
import { pathPolicyHooks } from "../../src/enforce/path-hooks.ts";
import { auditOf, ledgerHooks, openLedger, registerRun, usageReport, type LedgerDb, type LedgerHooks } from "../../src/ledger/index.ts";
import type { EgressProxy, RunHandle } from "../../src/proxy/proxy.ts";
import { renderUsageTable } from "../../src/budget/usage-format.ts";
import { auditEntry, auditLine } from "../../src/runs/logs.ts";
import type { Simulator } from "../../src/simulator/server.ts";
import { bottleCa, curl, startTlsSimulator, testProxy } from "../support/proxy-fixture.ts";

const KEY = "sk-real-custody-secret";
let plain: ReturnType<typeof Bun.serve>;
const plainSeen: Record<string, string>[] = [];
let tlsSim: Simulator;
let apiSim: Simulator;
let proxy: EgressProxy;
let run: RunHandle;
let db: LedgerDb;
let ledger: LedgerHooks;

beforeAll(async () => {
  plain = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => (plainSeen.push(Object.fromEntries(req.headers)), new Response("plain listener")) });
  tlsSim = startTlsSimulator({}, "localhost");
  apiSim = startTlsSimulator();
  db = await openLedger({ path: join(mkdtempSync(join(process.env.TMPDIR!, "custody-")), "bottle.db") });
  await registerRun(db, { id: "run-custody", label: "custody", agent: "claude" });
  ledger = ledgerHooks(db, { id: "run-custody", agent: "claude", provider: "claude" });
  proxy = testProxy({ env: { REAL_KEY: KEY } });
  run = await proxy.openRun({
    runId: "run-custody",
    log: "blocks",
    provider: "claude",
    hooks: composeHooks(ledger, pathPolicyHooks()),
    routes: [
      { host: "localhost", auth: { header: "x-api-key", env: "REAL_KEY" } },
      { host: "api.openai.com", upstream: apiSim.url, auth: { header: "authorization", env: "REAL_KEY", prefix: "Bearer " }, unmetered: ["/v1/files"] },
    ],
  });
});

afterAll(async () => {
  await run.close();
  await proxy.close();
  await ledger.close();
  await db.destroy();
  plain.stop(true);
  await tlsSim.close();
  await apiSim.close();
});

test("plain http:// to an auth: route's host never carries the key; it is refused before sending", async () => {
  const r = await curl(["-i", "--proxy", run.proxyUrl!, "-H", "x-api-key: placeholder", "-d", "{}", `http://localhost:${plain.port}/v1/messages`]);
  expect(r.stdout).toMatch(/^HTTP\/1\.1 403/);
  expect(r.stdout).toContain("sends only over https to port 443");
  expect(plainSeen).toEqual([]);
});

test("https:// to another port of an auth: route's host is refused too", async () => {
  const port = new URL(tlsSim.url).port;
  const r = await curl(["-i", "--proxy", run.proxyUrl!, "--cacert", bottleCa().certPath, "-d", "{}", `https://localhost:${port}/v1/messages`]);
  expect(r.stdout).toMatch(/\r\n\r\nHTTP\/1\.1 403/); // after the CONNECT's 200
  expect(tlsSim.requests).toEqual([]);
});

test("unmetered: opts a path in (audited and recorded as unmetered); batches on the same host never reach it", async () => {
  const send = (path: string) => curl(["-o", "/dev/null", "-w", "%{http_code}", "--proxy", run.proxyUrl!, "--cacert", bottleCa().certPath, "-H", "content-type: application/json", "-d", "{}", `https://api.openai.com${path}`]);
  expect((await send("/v1/files")).stdout).toBe("404"); // reached the simulator, which serves no file API
  expect((await send("/v1/batches")).stdout).toBe("403");
  expect(apiSim.requests.map((q) => q.path)).toEqual(["/v1/files"]);
  expect(apiSim.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
  await ledger.flush();
  const audit = await auditOf(db, "run-custody");
  const byPath = Object.fromEntries(audit.map((a) => [a.path, [a.decision, a.status]]));
  expect(byPath["/v1/files"]).toEqual(["unmetered", 404]);
  expect(byPath["/v1/batches"]).toEqual(["refuse", 403]);
  const rows = await db.selectFrom("usage_events").select(["path", "kind", "total_tokens"]).where("run_id", "=", "run-custody").execute();
  expect(rows).toEqual([{ path: "/v1/files", kind: "unmetered", total_tokens: 0 }]);
  const report = await usageReport(db, { by: "run" });
  expect(report.total).toMatchObject({ requests: 0, unmeteredCalls: 1, totalTokens: 0 });
  // What people read: `bottle budget usage` counts it as unmetered, `bottle logs` names the opt-in.
  expect(renderUsageTable(report)).toMatch(/run-custody\s+custody\s+claude\s+0 \(1 unmetered\)/);
  const line = auditLine(auditEntry(audit.find((a) => a.path === "/v1/files")!), "UTC");
  expect(line).toMatch(/POST\s+404\s+unmetered .*api\.openai\.com\/v1\/files\s+\(not metered: the route for api\.openai\.com opts in unmetered: \["\/v1\/files"\]\)/);
});
