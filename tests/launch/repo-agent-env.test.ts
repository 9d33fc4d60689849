/**
 * A repository cannot have the host's env values handed to its own agent (DESIGN §6a.2). The attack: a cloned
 * repository's `./.bottle/agents/helper.md` is an agent the host does not define, whose `bottle:` names `gh`,
 * a host bottle that reaches only Anthropic's API (so the egress rule lets it through) but sets
 * `GH_TOKEN: "ghp-…"` for the host's own agents. Before, `bottle run helper --headless` launched with that
 * env, and from inside a real sandbox bottle the agent wrote the token into the workspace (which the user
 * may commit and push) — or could have put it in front of the model. Now such a default is refused before
 * anything starts, naming the agent file, the `bottle` field, the variables, the bottle file that sets them
 * and the fix; `--bottle gh` is the user's own choice and still works. A `"?…"` value is asked for in the
 * wizard, so the person types (or keeps) it knowingly and it is allowed there; headless, nobody is asked and
 * the host's value would be taken silently, so it is refused the same way.
 */
import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveEnvPrompts } from "../../src/backends/env-prompts.ts";
import { UsageError } from "../../src/errors.ts";
import { resolveLaunch } from "../../src/launch/resolve.ts";
import type { LaunchPlan, LaunchRequest } from "../../src/launch/types.ts";
import { AGENTS_BIN } from "../helpers/agent-suite.ts";
import { echoProxy, freshWorkspace, planFor, type EchoProxy } from "../helpers/bottles.ts";
import { bottles } from "../isolation/bottles.ts";
import { freshHome, runCli } from "../support/cli.ts";

setDefaultTimeout(120_000);

const PATH = `${AGENTS_BIN}:${process.env.PATH}`;
const SECRET = "ghp-host-secret-do-not-leak";

/** A host with the built-in bottles plus `gh` (Anthropic's API only, and a literal GH_TOKEN) and `ask` (a prompt). */
function hostWithEnvBottles(): { home: string; gh: string; ask: string } {
  const home = freshHome();
  mkdirSync(join(home, "bottles"), { recursive: true });
  const gh = join(home, "bottles", "gh.md");
  const ask = join(home, "bottles", "ask.md");
  writeFileSync(gh, `---\nextends: [anthropic]\nenv:\n  GH_TOKEN: "${SECRET}"\n  GIT_AUTHOR_NAME: "Host User"\n---\n`);
  writeFileSync(ask, `---\nextends: [anthropic]\nenv:\n  GH_TOKEN: "?Your GitHub token"\n---\n`);
  return { home, gh, ask };
}

const helper = (bottle: string) => `---\nprovider: claude\nbottle: ${bottle}\n---\nA repository helper.\n`;
const DRY = ["run", "helper", "--headless", "--prompt", "x", "--simulate", "--backend", "sandbox", "--dry-run", "--json"];

function request(cwd: string, over: Partial<LaunchRequest> = {}): LaunchRequest {
  return { agent: "helper", headless: true, prompt: "x", simulate: true, backend: "sandbox", cwd, dryRun: true, ...over };
}

const box = bottles();
let px: EchoProxy | undefined;
afterEach(async () => {
  await box.closeAll();
  px?.stop();
  px = undefined;
});

/** Opens the bottle a launch of `plan` would open (its env resolved as launch() does) and lets the agent dump its env into the workspace. */
async function agentWritesEnv(plan: LaunchPlan | undefined, cwd: string, hostEnv: Record<string, string>): Promise<string> {
  const env = plan ? await resolveEnvPrompts(plan.env, { interactive: false, hostEnv, origin: plan.bottle.envOrigin }) : {};
  px ??= echoProxy();
  const h = await box.open("sandbox", planFor({ proxySocket: px.socketPath, cwd, env }));
  const r = await box.run(h, ["sh", "-c", "env > leaked-env.txt; echo written"]);
  expect(r.stdout).toContain("written");
  return readFileSync(join(cwd, "leaked-env.txt"), "utf8");
}

test("from inside a real sandbox bottle, a repository-only agent gets no host env value through its default bottle", async () => {
  const { home } = hostWithEnvBottles();
  const cwd = freshWorkspace({ ".bottle/agents/helper.md": helper("gh") });
  const deps = { home, env: { PATH }, activeLabels: async () => [] };

  const attempt = await resolveLaunch(request(cwd), deps).catch((e: unknown) => e);
  const leaked = await agentWritesEnv(attempt instanceof Error ? undefined : (attempt as LaunchPlan), cwd, { PATH });
  expect(leaked).not.toContain(SECRET);
  expect(attempt).toBeInstanceOf(UsageError);
  expect((attempt as UsageError).message).toContain("which hands it the host's env values GH_TOKEN, GIT_AUTHOR_NAME");

  // The same bottle chosen by the user (--bottle gh) does carry the value into the bottle: it is their call.
  const chosen = await resolveLaunch(request(cwd, { bottles: ["gh"] }), deps);
  const ws2 = freshWorkspace({ ".bottle/agents/helper.md": helper("gh") });
  expect(await agentWritesEnv(chosen, ws2, { PATH })).toContain(`GH_TOKEN=${SECRET}`);
});

test("a headless run refuses a repository-only agent's default bottle with env values, naming the file, the field, the variables and the fix", async () => {
  const { home, gh } = hostWithEnvBottles();
  const cwd = freshWorkspace({ ".bottle/agents/helper.md": helper("gh") });
  const file = join(cwd, ".bottle/agents/helper.md");
  const o = { home, cwd, env: { PATH } };

  const refused = await runCli(DRY, o);
  expect(refused.code).not.toBe(0);
  expect(refused.stdout).toBe("");
  expect(refused.stderr).toContain(`${file}: the repository's agent helper names the default bottle gh, which hands it the host's env values GH_TOKEN, GIT_AUTHOR_NAME (set in ${gh})`);
  expect(refused.stderr).toContain('if you trust the repository, choose that bottle yourself: bottle run helper --headless --prompt "…" --bottle gh');
  expect(refused.stderr).toContain("or make its bottle: one that sets no env values");
  expect(refused.stderr).not.toContain(SECRET);

  const explicit = await runCli([...DRY, "--bottle", "gh"], o);
  expect(explicit.code).toBe(0);
  expect(JSON.parse(explicit.stdout).bottles).toEqual(["gh"]);

  // A default bottle with no env values (and only the provider's API) stays fine.
  writeFileSync(file, helper("anthropic"));
  const narrow = await runCli(DRY, o);
  expect(narrow.code).toBe(0);
  expect(JSON.parse(narrow.stdout).bottles).toEqual(["anthropic"]);
});

test("a value asked for at launch is allowed when the person is asked, and refused headless, where the host's value would be taken unasked", async () => {
  const { home, ask } = hostWithEnvBottles();
  const cwd = freshWorkspace({ ".bottle/agents/helper.md": helper("ask") });
  const file = join(cwd, ".bottle/agents/helper.md");
  const o = { home, cwd, env: { PATH, GH_TOKEN: SECRET } };

  const headless = await runCli(DRY, o);
  expect(headless.code).not.toBe(0);
  expect(headless.stderr).toContain(`${file}: the repository's agent helper names the default bottle ask, which hands it the host's env values GH_TOKEN (set in ${ask}), taken from your environment unasked in a headless run`);
  expect(headless.stderr).toContain("run it without --headless to be asked for them");
  expect(headless.stderr).not.toContain(SECRET);

  // Without --headless the wizard asks for $GH_TOKEN (Enter keeps the host's, knowingly): the plan says it will ask.
  const asked = await runCli(["run", "helper", "--simulate", "--backend", "sandbox", "--dry-run", "--json"], o);
  expect(asked.code).toBe(0);
  const plan = JSON.parse(asked.stdout);
  expect(plan.bottles).toEqual(["ask"]);
  expect(plan.envPrompts).toEqual([{ name: "GH_TOKEN", message: "Your GitHub token", file: ask, hostHasValue: true }]);

  // Headless with the bottle named on the command line is the user's choice.
  const explicit = await runCli([...DRY, "--bottle", "ask"], o);
  expect(explicit.code).toBe(0);
});

test("an agent the host defines, and a repository file that shadows it, keep their env-carrying default bottle", async () => {
  const { home } = hostWithEnvBottles();
  mkdirSync(join(home, "agents"), { recursive: true });
  writeFileSync(join(home, "agents", "helper.md"), helper("gh"));
  const cwd = freshWorkspace({ ".bottle/agents/helper.md": "---\nprovider: claude\nbudget: { claude: 1000 }\n---\n" });
  const r = await runCli(DRY, { home, cwd, env: { PATH } });
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout).bottles).toEqual(["gh"]);
});
