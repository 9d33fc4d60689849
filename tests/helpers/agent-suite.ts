/**
 * One suite, two backends: the real agent CLIs from npm (claude, codex, pi; installed by
 * scripts/install-agents.sh) run headless in a bottle whose only way out is the bridge to bottle's MITM
 * proxy. The proxy sends the model API hosts to the simulator (real wire formats, over TLS) and meters
 * every exchange. Each test also proves that provisioning reached the model: the agent's instructions and
 * its skill appear in the request.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Backend, BottleHandle, BottlePlan } from "../../src/backends/types.ts";
import type { BackendName } from "../../src/manifest/types.ts";
import type { MeterResult } from "../../src/metering/types.ts";
import { bottleHome } from "../../src/paths.ts";
import type { EgressProxy, RunHandle } from "../../src/proxy/proxy.ts";
import { PROVIDER_TABLE, providerRoutes, type Provider } from "../../src/providers/index.ts";
import { buildPlan } from "../../src/providers/plan.ts";
import { provisionAgent } from "../../src/providers/provision.ts";
import type { Simulator } from "../../src/simulator/server.ts";
import { freshRunId, freshWorkspace, REPO } from "./bottles.ts";
import { collectingMeterHooks } from "./metering-hooks.ts";
import { bottleCa, startTlsSimulator, testProxy } from "../support/proxy-fixture.ts";

export const AGENTS_DIR = process.env.BOTTLE_AGENTS_DIR ?? join(REPO, ".cache/agents");
export const AGENTS_BIN = join(AGENTS_DIR, "node_modules/.bin");
const REPLY = "Hello from the bottle simulator";
const MARKER = "MARKER-INSTRUCTIONS-7f3a";

export interface AgentSuiteOptions {
  backendName: BackendName;
  /** Called in beforeAll; throws when the backend cannot run (the tests then fail with that reason). */
  backend: () => Promise<Backend>;
  /** Plan changes for this backend (docker: the host CLI mounted in). */
  adjust?: (plan: BottlePlan) => BottlePlan;
}

export function agentSuite(o: AgentSuiteOptions): void {
  let backend: Backend;
  let sim: Simulator;
  let proxy: EgressProxy | undefined;
  let run: RunHandle | undefined;
  let handle: BottleHandle | undefined;

  beforeAll(async () => {
    const missing = ["claude", "codex", "pi"].filter((b) => !existsSync(join(AGENTS_BIN, b)));
    if (missing.length > 0) throw new Error(`agent CLIs not installed (${missing.join(", ")} missing in ${AGENTS_BIN}): run bash scripts/install-agents.sh`);
    backend = await o.backend();
    sim = startTlsSimulator({ text: REPLY });
    const skill = join(bottleHome(), "skills", "greet-politely");
    mkdirSync(skill, { recursive: true });
    writeFileSync(join(skill, "SKILL.md"), "---\nname: greet-politely\ndescription: Use when greeting someone; answers with a polite greeting.\n---\n\nSay hello politely.\n");
  }, 300_000);
  afterEach(async () => {
    if (handle) await backend.teardown(handle);
    await run?.close();
    await proxy?.close();
    handle = run = proxy = undefined;
  }, 120_000);
  afterAll(async () => {
    await sim?.close();
  });

  async function runHeadless(p: Provider, results: MeterResult[]) {
    sim.requests.length = 0;
    proxy = testProxy({ hooks: collectingMeterHooks(results as (MeterResult & { host: string; path: string })[]) });
    const runId = freshRunId(p.name);
    run = await proxy.openRun({ runId, provider: p.name, routes: providerRoutes(p).map((r) => ({ ...r, upstream: sim.url })) });
    const plan = buildPlan({
      runId,
      label: p.name,
      agent: `${p.name}-tester`,
      provider: p.name,
      backend: o.backendName,
      cwd: freshWorkspace({ "README.md": "a project\n" }),
      proxy: { socketPath: run.socketPath, caCertPath: bottleCa().certPath },
      hostPath: `${AGENTS_BIN}:${process.env.PATH}`,
    });
    handle = await backend.create(o.adjust ? o.adjust(plan) : plan);
    const report = await provisionAgent(backend, handle, p, { skills: ["greet-politely"], prompt: `You are a test agent. ${MARKER}` });
    expect(report.skills).toEqual(["greet-politely"]);
    return backend.provision(handle, p.argv({ prompt: "Say hi.", json: p.name === "codex" }));
  }

  function generationBodies(): string {
    return sim.requests.filter((r) => /\/v1\/(messages|responses|chat\/completions)$/.test(r.path.split("?")[0]!)).map((r) => JSON.stringify(r.body)).join("\n");
  }

  describe(`real agent CLIs headless in a ${o.backendName} bottle`, () => {
    for (const name of ["claude", "codex", "pi"] as const) {
      test(`${name} answers through the proxy, its usage is metered, and its instructions and skill reach the model`, async () => {
        const p = PROVIDER_TABLE[name];
        const results: MeterResult[] = [];
        const r = await runHeadless(p, results);
        if (r.exitCode !== 0) throw new Error(`${name} exited ${r.exitCode}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
        expect(r.stdout).toContain(REPLY);
        const usage = results.filter((m) => m.kind === "usage");
        expect(usage.length).toBeGreaterThanOrEqual(1);
        for (const u of usage) {
          // The simulator reports 25 input + 12 output tokens for every generation.
          expect(u.usage.totalTokens).toBe(37);
          expect(u.estimated).toBe(false);
        }
        const bodies = generationBodies();
        expect(bodies).toContain(MARKER);
        expect(bodies).toContain("greet-politely");
      }, 90_000);
    }
  });
}
