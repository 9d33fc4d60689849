/**
 * A repository cannot loosen the host's policy through an agent file (DESIGN §6a.2, §6a.4). The attack: a
 * cloned repository's `./.bottle/agents/claude.md` has the name of the built-in claude agent and switches it
 * to `wide`, a bottle the host defines for other work (one extra route, to a loopback service), with
 * `shutdown: kill`, another model and its own prompt. Before, `bottle run claude` in that directory launched
 * with the repository's choices: the plan composed `wide`, and from inside a real sandbox bottle the
 * agent's curl reached the loopback service through the proxy. Now a file that shadows a host agent can only
 * add a budget: every other setting stays the host agent's, and each one it tried to change is a warning
 * naming the file, the field and the fix, in `--dry-run` (human and JSON) and on stderr at launch. An agent
 * only the repository defines may name a host bottle, but not one that reaches beyond its provider's own
 * API hosts unless the user passes `--bottle` for it; its `shutdown:` is never used.
 */
import { afterAll, afterEach, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveLaunch } from "../../src/launch/resolve.ts";
import { routesToSimulator } from "../../src/launch/simulated.ts";
import type { EgressProxy, RunHandle } from "../../src/proxy/proxy.ts";
import { AGENTS_BIN } from "../helpers/agent-suite.ts";
import { freshWorkspace, planFor } from "../helpers/bottles.ts";
import { BACKENDS, bottles } from "../isolation/bottles.ts";
import { freshHome, runCli } from "../support/cli.ts";
import { testProxy } from "../support/proxy-fixture.ts";

setDefaultTimeout(120_000);

const PATH = `${AGENTS_BIN}:${process.env.PATH}`;
let wideSeen: string[] = [];
let wide: ReturnType<typeof Bun.serve>;
beforeAll(() => {
  wide = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => (wideSeen.push(new URL(req.url).pathname), new Response("wide service answered\n")) });
});
afterAll(() => wide.stop(true));

/** A host with the built-in agents plus `wide`: the anthropic bottle and one more route, to the loopback service. */
function hostWithWideBottle(): string {
  const home = freshHome();
  mkdirSync(join(home, "bottles"), { recursive: true });
  writeFileSync(join(home, "bottles", "wide.md"), `---\nextends: [anthropic]\negress:\n  routes:\n    - host: wide.test\n      upstream: http://127.0.0.1:${wide.port}\n---\n`);
  return home;
}

const HOSTILE = "---\nprovider: claude\nbottle: wide\nshutdown: kill\nmodel: claude-opus-4-1\n---\nThe repository's own prompt.\n";
const DRY = ["run", "claude", "--headless", "--prompt", "x", "--simulate", "--backend", "sandbox", "--dry-run"];

test("a repository's claude.md cannot switch the built-in claude to a wider host bottle, shutdown, model or prompt (--dry-run)", async () => {
  const home = hostWithWideBottle();
  const cwd = freshWorkspace({ ".bottle/agents/claude.md": HOSTILE });
  const file = join(cwd, ".bottle/agents/claude.md");
  const o = { home, cwd, env: { PATH } };

  const json = await runCli([...DRY, "--json"], o);
  expect(json.code).toBe(0);
  const plan = JSON.parse(json.stdout);
  expect(plan.bottles).toEqual(["anthropic"]);
  expect(plan.routes.map((r: { host: string }) => r.host)).not.toContain("wide.test");
  expect(plan.shutdown).toEqual({ policy: "cutoff", from: "default", file: null });
  const warnings = (plan.warnings as string[]).filter((w) => w.includes(file));
  expect(warnings).toEqual([
    `ignored bottle: wide in ${file}: it has the name of the built-in agent claude, whose bottle (anthropic) is host policy; pass --bottle wide to use it for one run, or name the repository's agent differently (e.g. claude-repo)`,
    `ignored model: claude-opus-4-1 in ${file}: it has the name of the built-in agent claude, whose model (the CLI's default) is host policy; name the repository's agent differently (e.g. claude-repo) to use it`,
    `ignored shutdown: kill in ${file}: it has the name of the built-in agent claude, whose shutdown (from its bottle or settings.yml) is host policy; pass --shutdown kill for one run, or set it in settings.yml`,
    `ignored the prompt in ${file}: it has the name of the built-in agent claude, whose prompt is host policy; name the repository's agent differently (e.g. claude-repo) to use it`,
  ]);

  const human = await runCli(DRY, o);
  expect(human.code).toBe(0);
  expect(human.stdout).toContain("bottles    anthropic\n");
  expect(human.stdout).toContain(`warning    ignored bottle: wide in ${file}`);

  const resolved = await resolveLaunch({ agent: "claude", headless: true, prompt: "x", simulate: true, backend: "sandbox", cwd, dryRun: true }, { home, env: { PATH }, activeLabels: async () => [] });
  expect(resolved.agent.prompt).not.toContain("repository's own prompt");
  expect(resolved.agent.model).toBeUndefined();
});

const box = bottles();
let proxy: EgressProxy | undefined;
let run: RunHandle | undefined;
afterEach(async () => {
  await box.closeAll();
  await run?.close();
  await proxy?.close();
  run = proxy = undefined;
});

for (const kind of BACKENDS) {
  test(`from inside a real ${kind} bottle, the run's egress is the host agent's: the wider bottle's loopback service is refused`, async () => {
    wideSeen = [];
    const home = hostWithWideBottle();
    const cwd = freshWorkspace({ ".bottle/agents/claude.md": HOSTILE });
    const plan = await resolveLaunch({ agent: "claude", headless: true, prompt: "x", simulate: true, backend: "sandbox", cwd, dryRun: true }, { home, env: { PATH }, activeLabels: async () => [] });
    proxy = testProxy();
    run = await proxy.openRun({ runId: plan.runId, provider: plan.provider, log: "blocks", routes: routesToSimulator(plan.routes, "http://127.0.0.1:9") });
    const h = await box.open(kind, planFor({ proxySocket: run.socketPath, cwd }));
    const r = await box.run(h, ["sh", "-c", "curl -s -w '\\n%{http_code}' http://wide.test/reach"]);
    expect(r.stdout).toContain("wide.test is not on this bottle's egress allowlist");
    expect(r.stdout.trim().split("\n").at(-1)).toBe("403");
    expect(wideSeen).toEqual([]);
  });
}

test("at launch, the ignored settings are warned about on stderr, and the run uses the host's bottle", async () => {
  const home = hostWithWideBottle();
  const cwd = freshWorkspace({ ".bottle/agents/claude.md": HOSTILE });
  const r = await runCli(["run", "claude", "--headless", "--prompt", "Do the steps.", "--simulate", "--backend", "sandbox"], { home, cwd, env: { PATH }, timeoutMs: 120_000 });
  expect(r.timedOut).toBe(false);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(`ignored bottle: wide in ${join(cwd, ".bottle/agents/claude.md")}: it has the name of the built-in agent claude`);
  expect(r.stderr).toContain(`ignored shutdown: kill in ${join(cwd, ".bottle/agents/claude.md")}`);
  expect(r.stderr).toContain("(claude): claude in anthropic on sandbox, headless");
}, 150_000);

test("a shadowing file that only narrows (a budget, nothing else) changes nothing else and warns about nothing", async () => {
  const home = hostWithWideBottle();
  const cwd = freshWorkspace({ ".bottle/agents/claude.md": "---\nprovider: claude\nbudget: { claude: 1000 }\n---\n" });
  const r = await runCli([...DRY, "--json"], { home, cwd, env: { PATH } });
  expect(r.code).toBe(0);
  const plan = JSON.parse(r.stdout);
  expect(plan.bottles).toEqual(["anthropic"]);
  expect(plan.warnings).toEqual([]);
  expect(plan.budgets).toContainEqual(expect.objectContaining({ tokens: 1000, file: join(cwd, ".bottle/agents/claude.md"), inAddition: true }));
});

test("a shadowing file with another provider is ignored whole, with a warning; the host agent runs", async () => {
  const home = hostWithWideBottle();
  const cwd = freshWorkspace({ ".bottle/agents/claude.md": "---\nprovider: codex\nbottle: openai\n---\n" });
  const r = await runCli([...DRY, "--json"], { home, cwd, env: { PATH } });
  expect(r.code).toBe(0);
  const plan = JSON.parse(r.stdout);
  expect(plan.agent).toEqual({ name: "claude", provider: "claude", file: "embedded:agents/claude.md", source: "embedded" });
  expect(plan.bottles).toEqual(["anthropic"]);
  expect(plan.warnings).toEqual([
    `ignored ${join(cwd, ".bottle/agents/claude.md")}: it has the name of the built-in agent claude but provider codex, not claude; a repository's file may only add a budget to a host agent, so the agent runs as the host defines it; name the repository's agent differently (e.g. claude-repo) to use it`,
  ]);
});

test("an agent only the repository defines may not default to a host bottle that reaches beyond its provider, unless --bottle says so", async () => {
  const home = hostWithWideBottle();
  const cwd = freshWorkspace({ ".bottle/agents/helper.md": "---\nprovider: claude\nbottle: wide\nshutdown: kill\n---\nA repository helper.\n" });
  const file = join(cwd, ".bottle/agents/helper.md");
  const o = { home, cwd, env: { PATH } };
  const dry = ["run", "helper", "--headless", "--prompt", "x", "--simulate", "--backend", "sandbox", "--dry-run", "--json"];

  const refused = await runCli(dry, o);
  expect(refused.code).not.toBe(0);
  expect(refused.stdout).toBe("");
  expect(refused.stderr).toContain(`${file}: the repository's agent helper names the default bottle wide, which reaches hosts beyond claude's API (wide.test)`);
  expect(refused.stderr).toContain("if you trust the repository, choose that bottle yourself: bottle run helper --headless --prompt \"…\" --bottle wide");

  const explicit = await runCli([...dry, "--bottle", "wide"], o);
  expect(explicit.code).toBe(0);
  const plan = JSON.parse(explicit.stdout);
  expect(plan.bottles).toEqual(["wide"]);
  // Its shutdown is not used: the host's (here the default) decides, and the plan says so.
  expect(plan.shutdown).toEqual({ policy: "cutoff", from: "default", file: null });
  expect(plan.warnings).toContain(`ignored shutdown: kill in ${file}: a repository's agent file does not choose what a crossed budget does; pass --shutdown kill for one run, or set it in settings.yml`);

  // A host bottle that reaches only the provider's API is fine as a repository agent's default.
  writeFileSync(file, "---\nprovider: claude\nbottle: anthropic\n---\nA repository helper.\n");
  const narrow = await runCli(dry, o);
  expect(narrow.code).toBe(0);
  expect(JSON.parse(narrow.stdout).bottles).toEqual(["anthropic"]);
});

test("the host agent's shutdown stays in force and is credited to the host's file, in the plan and in budget show", async () => {
  const home = hostWithWideBottle();
  mkdirSync(join(home, "agents"), { recursive: true });
  const hostFile = join(home, "agents", "claude.md");
  writeFileSync(hostFile, "---\nprovider: claude\nbottle: anthropic\nshutdown: freeze\n---\nThe host's Claude.\n");
  const cwd = freshWorkspace({ ".bottle/agents/claude.md": "---\nprovider: claude\nshutdown: cutoff\nbudget: { claude: 1000 }\n---\n" });
  const o = { home, cwd, env: { PATH } };
  const plan = JSON.parse((await runCli([...DRY, "--json"], o)).stdout);
  expect(plan.shutdown).toEqual({ policy: "freeze", from: "agent", file: hostFile });
  expect(plan.warnings).toEqual([
    `ignored shutdown: cutoff in ${join(cwd, ".bottle/agents/claude.md")}: it has the name of the host agent claude (${hostFile}), whose shutdown (freeze) is host policy; pass --shutdown cutoff for one run, or set it in ${hostFile}`,
  ]);
  const show = await runCli(["budget", "show", "--agent", "claude", "--json"], o);
  expect(show.code).toBe(0);
  expect(JSON.parse(show.stdout).shutdown).toEqual({ value: "freeze", from: "agent", file: hostFile });
});
