/**
 * The wizard on a real terminal (tmux) does not pre-tick a wide bottle for a repository's agent: an agent
 * only `./.bottle/agents` defines, whose default bottle reaches beyond its provider's API (`review` adds
 * api.github.com), starts the bottle step with nothing ticked and a warning naming the agent, the bottle,
 * the extra host and the file; the host's own agent still gets its default ticked. Ticking the bottle stays
 * the person's choice (the headless equivalent, --bottle, is in tests/launch/repo-agent-shadow.test.ts). The
 * same goes for a default bottle that would hand the repository's agent an env value written in a host
 * bottle (`GH_TOKEN: "ghp-…"`); one that only asks (`"?Your GitHub token"`) is ticked, because the wizard
 * asks the person for it (tests/launch/repo-agent-env.test.ts has the headless side and the in-bottle attack).
 */
import { afterEach, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Terminal } from "../support/terminal.ts";
import { ENTRY, shellEnv, wizardHome } from "../support/wizard-fixture.ts";

let term: Terminal | undefined;
afterEach(() => {
  term?.close();
  term = undefined;
});

test("a repository-only agent's wide default bottle is not ticked, and the wizard says why", async () => {
  const fx = wizardHome();
  const file = join(fx.project, ".bottle", "agents", "helper.md");
  mkdirSync(join(fx.project, ".bottle", "agents"), { recursive: true });
  writeFileSync(file, "---\nprovider: claude\nbottle: review\n---\nA repository helper.\n");
  const out = join(fx.project, "..", "request.json");
  term = Terminal.start(["bun", ENTRY, out, JSON.stringify({ simulate: true, backend: "sandbox", agent: "helper" })], { cwd: fx.project, env: shellEnv(fx.home) });
  const s = await term.waitFor("Which bottles?");
  expect(s.replace(/\s+/g, " ")).toContain(
    `the repository's agent helper names the default bottle review, which reaches hosts beyond claude's API (api.github.com), so it is not ticked: tick it yourself if you trust ${file}`.replace(/\s+/g, " "),
  );
  const step = s.slice(s.lastIndexOf("Which bottles?"));
  for (const b of ["anthropic", "openai", "review", "tools"]) expect(step).toContain(`◻ ${b}`);
  term.keys("Escape");
  expect(await term.exited()).toBe(130);
}, 60_000);

test("the host's own agent still starts with its default bottle ticked", async () => {
  const fx = wizardHome();
  const out = join(fx.project, "..", "request.json");
  term = Terminal.start(["bun", ENTRY, out, JSON.stringify({ simulate: true, backend: "sandbox", agent: "reviewer" })], { cwd: fx.project, env: shellEnv(fx.home) });
  const s = await term.waitFor("Which bottles?");
  expect(s.slice(s.lastIndexOf("Which bottles?"))).toContain("◼ review");
  expect(s).not.toContain("is not ticked");
  term.keys("Escape");
  expect(await term.exited()).toBe(130);
}, 60_000);

test("a repository-only agent's default bottle with a host env value is not ticked; one that only asks for it is", async () => {
  const fx = wizardHome();
  const keyed = join(fx.home, "bottles", "keyed.md");
  writeFileSync(keyed, '---\nextends: [anthropic]\nenv:\n  GH_TOKEN: "ghp-host-secret"\n---\n');
  writeFileSync(join(fx.home, "bottles", "asking.md"), '---\nextends: [anthropic]\nenv:\n  GH_TOKEN: "?Your GitHub token"\n---\n');
  mkdirSync(join(fx.project, ".bottle", "agents"), { recursive: true });
  const file = join(fx.project, ".bottle", "agents", "helper.md");
  writeFileSync(file, "---\nprovider: claude\nbottle: keyed\n---\nA repository helper.\n");
  writeFileSync(join(fx.project, ".bottle", "agents", "asker.md"), "---\nprovider: claude\nbottle: asking\n---\nA repository helper.\n");
  const out = join(fx.project, "..", "request.json");

  term = Terminal.start(["bun", ENTRY, out, JSON.stringify({ simulate: true, backend: "sandbox", agent: "helper" })], { cwd: fx.project, env: shellEnv(fx.home) });
  const s = await term.waitFor("Which bottles?");
  expect(s.replace(/\s+/g, " ")).toContain(
    `the repository's agent helper names the default bottle keyed, which hands it the host's env values GH_TOKEN (set in ${keyed}), so it is not ticked: tick it yourself if you trust ${file}`.replace(/\s+/g, " "),
  );
  expect(s).not.toContain("ghp-host-secret");
  expect(s.slice(s.lastIndexOf("Which bottles?"))).toContain("◻ keyed");
  term.keys("Escape");
  expect(await term.exited()).toBe(130);
  term.close();

  term = Terminal.start(["bun", ENTRY, out, JSON.stringify({ simulate: true, backend: "sandbox", agent: "asker" })], { cwd: fx.project, env: shellEnv(fx.home) });
  const a = await term.waitFor("Which bottles?");
  expect(a.slice(a.lastIndexOf("Which bottles?"))).toContain("◼ asking");
  expect(a).not.toContain("is not ticked");
  term.keys("Escape");
  expect(await term.exited()).toBe(130);
}, 90_000);
