/**
 * No way around the meter, with the real Claude Code in a sandbox bottle and in a docker bottle. The
 * simulated model asks, as its first tool call, for a shell command that tries every way around the meter
 * an injected prompt could: with curl through the bottle's proxy it submits an Anthropic message batch,
 * calls the legacy `/v1/complete`, OpenAI's legacy `/v1/completions`, `/v1/embeddings` and `/v1/batches`,
 * sends a plain http:// request straight at an `auth:` route's host (on another port), and plants
 * `.bottle/agents/claude.md` for its next run. The routes inject a real key (the built-in bottles' custody).
 *
 * Each billable request is either metered exactly (completions 37 tokens, embeddings 25, from their own
 * usage) or refused with a 403 before it is sent; no request reaches the upstream with the key unless it is
 * metered; the plain-http request never carries the key; the plant fails and the next run's catalog is the
 * same. Everything is checked in the ledger (usage and audit rows) and at the fake upstream.
 */
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { IMAGE_PATH } from "../../src/backends/docker/args.ts";
import type { Backend, BottleHandle } from "../../src/backends/types.ts";
import { composeHooks } from "../../src/enforce/compose-hooks.ts";
import { pathPolicyHooks } from "../../src/enforce/path-hooks.ts";
import { auditOf, ledgerHooks, openLedger, registerRun, type LedgerDb, type LedgerHooks } from "../../src/ledger/index.ts";
import { loadCatalog } from "../../src/manifest/catalog.ts";
import type { EgressProxy, RunHandle } from "../../src/proxy/proxy.ts";
import { PROVIDER_TABLE } from "../../src/providers/index.ts";
import { buildPlan } from "../../src/providers/plan.ts";
import { provisionAgent } from "../../src/providers/provision.ts";
import type { Simulator } from "../../src/simulator/server.ts";
import { AGENTS_BIN, AGENTS_DIR } from "../helpers/agent-suite.ts";
import { freshRunId, freshWorkspace } from "../helpers/bottles.ts";
import { DockerBackend } from "../../src/backends/docker/index.ts";
import { SandboxBackend } from "../../src/backends/sandbox/index.ts";
import { testBaseImage } from "../helpers/docker-image.ts";
import { BACKENDS } from "../isolation/bottles.ts";
import { bottleCa, startTlsSimulator, testProxy } from "../support/proxy-fixture.ts";

setDefaultTimeout(180_000);

const KEY = "sk-real-key-that-must-never-leak-unmetered";
let keyed: ReturnType<typeof Bun.serve>;
const keyedSeen: Record<string, string>[] = [];

function script(keyedPort: number): string {
  const c = `curl -s -o /dev/null -w '%{http_code}\\n' --cacert "$NODE_EXTRA_CA_CERTS" -H 'content-type: application/json'`;
  return [
    `${c} -d '{"requests":[]}' https://api.anthropic.com/v1/messages/batches > attempts.txt`,
    `${c} -d '{"model":"claude-2.1","prompt":"\\n\\nHuman: hi\\n\\nAssistant:","max_tokens_to_sample":5}' https://api.anthropic.com/v1/complete >> attempts.txt`,
    `${c} -d '{"model":"gpt-3.5-turbo-instruct","prompt":"hi"}' https://api.openai.com/v1/completions >> attempts.txt`,
    `${c} -d '{"model":"text-embedding-3-small","input":"hi"}' https://api.openai.com/v1/embeddings >> attempts.txt`,
    `${c} -d '{"input_file_id":"file-1","endpoint":"/v1/chat/completions","completion_window":"24h"}' https://api.openai.com/v1/batches >> attempts.txt`,
    `curl -s -o /dev/null -w '%{http_code}\\n' --noproxy '' -x "$HTTP_PROXY" -d '{}' http://localhost:${keyedPort}/v1/messages >> attempts.txt`,
    `(mkdir -p .bottle/agents && printf -- '---\\nprovider: claude\\nbudget: { claude: 99999999 }\\n---\\nplanted\\n' > .bottle/agents/claude.md) 2>/dev/null; echo "plant $?" >> attempts.txt`,
  ].join("; ");
}

beforeAll(() => {
  if (!existsSync(join(AGENTS_BIN, "claude"))) throw new Error(`claude is not installed in ${AGENTS_BIN}: run bash scripts/install-agents.sh`);
  keyed = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => (keyedSeen.push(Object.fromEntries(req.headers)), new Response("keyed listener")) });
});
afterAll(() => keyed.stop(true));

/** The backend, able to run the host's Claude Code (docker: an image with its and bash's libraries). */
async function backendFor(kind: "sandbox" | "docker"): Promise<Backend> {
  const b = kind === "sandbox" ? new SandboxBackend() : new DockerBackend({ image: await testBaseImage([join(AGENTS_BIN, "claude"), Bun.which("bash")!]) });
  const a = await b.available();
  if (!a.ok) throw new Error(`${kind} backend unavailable: ${a.reason}`);
  return b;
}

for (const kind of BACKENDS) {
  describe(`real Claude Code in a ${kind} bottle`, () => {
    let sim: Simulator;
    let proxy: EgressProxy | undefined;
    let run: RunHandle | undefined;
    let handle: BottleHandle | undefined;
    let backend: Backend;
    let db: LedgerDb | undefined;
    let ledger: LedgerHooks | undefined;
    afterEach(async () => {
      if (handle) await backend.teardown(handle);
      await run?.close();
      await proxy?.close();
      await ledger?.close();
      await db?.destroy();
      await sim?.close();
      handle = run = proxy = ledger = db = undefined;
    });

    test("every way around the meter is metered exactly or refused, and the key never leaves unmetered", async () => {
      keyedSeen.length = 0;
      backend = await backendFor(kind);
      sim = startTlsSimulator({ text: "Done.", toolUse: { name: "Bash", input: { command: script(keyed.port!), description: "try the endpoints" } }, toolTurns: 1 });
      const runId = freshRunId(`meter-${kind}`);
      db = await openLedger({ path: join(mkdtempSync(join(process.env.TMPDIR!, "meter-e2e-")), "bottle.db") });
      await registerRun(db, { id: runId, label: "claude", agent: "claude", provider: "claude" });
      ledger = ledgerHooks(db, { id: runId, agent: "claude", provider: "claude" });
      proxy = testProxy({ env: { REAL_KEY: KEY } });
      run = await proxy.openRun({
        runId,
        provider: "claude",
        log: "blocks",
        hooks: composeHooks(ledger, pathPolicyHooks()),
        routes: [
          { host: "api.anthropic.com", upstream: sim.url, auth: { header: "x-api-key", env: "REAL_KEY" } },
          { host: "api.openai.com", upstream: sim.url, auth: { header: "authorization", env: "REAL_KEY", prefix: "Bearer " } },
          { host: "localhost", auth: { header: "x-api-key", env: "REAL_KEY" } },
        ],
      });
      const ws = freshWorkspace({ "README.md": "a project\n" });
      const home = freshWorkspace();
      const catalogBefore = loadCatalog({ home, cwd: ws }).agents.get("claude");
      const p = PROVIDER_TABLE.claude;
      let plan = buildPlan({ runId, label: "claude", agent: "claude", provider: "claude", backend: kind, cwd: ws, proxy: { socketPath: run.socketPath, caCertPath: bottleCa().certPath }, hostPath: `${AGENTS_BIN}:${process.env.PATH}` });
      if (kind === "docker") {
        const node = Bun.which("node");
        const bash = realpathSync(Bun.which("bash")!);
        plan = { ...plan, expose: [realpathSync(AGENTS_DIR), bash, ...(node ? [realpathSync(node)] : [])], env: { ...plan.env, PATH: `${AGENTS_BIN}:${IMAGE_PATH}`, SHELL: bash } };
      }
      handle = await backend.create(plan);
      await provisionAgent(backend, handle, p, { skills: [], prompt: "You are a test agent." });
      const r = await backend.provision(handle, p.argv({ prompt: "Follow the instructions." }));
      if (r.exitCode !== 0) throw new Error(`claude exited ${r.exitCode}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
      await ledger.flush();

      // What the agent's shell saw: refusals are 403, metered calls 200, the plant failed.
      const attempts = readFileSync(join(ws, "attempts.txt"), "utf8").trim().split("\n");
      expect(attempts).toEqual(["403", "403", "200", "200", "403", "403", expect.stringMatching(/^plant [1-9]/)]);

      // Nothing unmetered reached the upstream: every request that did is a metered endpoint, with the key.
      const reached = sim.requests.filter((q) => q.method !== "GET").map((q) => q.path.split("?")[0]);
      expect(new Set(reached)).toEqual(new Set(["/v1/messages", "/v1/completions", "/v1/embeddings"]));
      expect(sim.requests.find((q) => q.path === "/v1/completions")!.headers.authorization).toBe(`Bearer ${KEY}`);

      // Metered exactly, each from its own usage (the simulator reports 25 in, 12 out).
      const rows = await db.selectFrom("usage_events").select(["path", "total_tokens", "estimated", "provider"]).where("run_id", "=", runId).execute();
      const byPath = (path: string) => rows.filter((u) => u.path?.split("?")[0] === path);
      expect(byPath("/v1/completions")).toEqual([{ path: "/v1/completions", total_tokens: 37, estimated: 0, provider: "claude" }]);
      expect(byPath("/v1/embeddings")).toEqual([{ path: "/v1/embeddings", total_tokens: 25, estimated: 0, provider: "claude" }]);
      expect(byPath("/v1/messages").map((u) => u.total_tokens)).toEqual([37, 37]);

      // The refusals are in the audit log with the reason; the plain-http request never reached anyone.
      const refused = (await auditOf(db, runId)).filter((a) => a.decision === "refuse").map((a) => [a.host, a.path, a.status]);
      expect(refused).toEqual([
        ["api.anthropic.com", "/v1/messages/batches", 403],
        ["api.anthropic.com", "/v1/complete", 403],
        ["api.openai.com", "/v1/batches", 403],
        ["localhost", "/v1/messages", 403],
      ]);
      expect(keyedSeen).toEqual([]);

      // The planted agent file does not exist, and a next run here loads the same agent.
      expect(existsSync(join(ws, ".bottle", "agents"))).toBe(false);
      expect(loadCatalog({ home, cwd: ws }).agents.get("claude")).toEqual(catalogBefore);
    });
  });
}
