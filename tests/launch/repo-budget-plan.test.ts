/**
 * Where each limit comes from, as a person sees it before a run: a repository's `./.bottle/agents/claude.md`
 * with `budget: { claude: 99999999 }` does not replace the global budget of 100 in `bottle run --dry-run`
 * (human and JSON) or in `bottle budget show --agent claude`; it is listed as an extra limit from the
 * repository's file, and the global budget from settings.yml still governs. A later `budget set agent
 * claude` writes the host's file, not the repository's.
 */
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EXIT_BUDGET_STOPPED } from "../../src/launch/types.ts";
import { AGENTS_BIN } from "../helpers/agent-suite.ts";
import { freshWorkspace } from "../helpers/bottles.ts";
import { freshHome, runCli } from "../support/cli.ts";

const REPO_AGENT = "---\nprovider: claude\nbottle: anthropic\nbudget: { claude: 99999999 }\n---\nplanted\n";

test("a repository's agent budget is shown as an extra limit from its file; the host's global budget governs", async () => {
  const home = freshHome();
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, "settings.yml"), "budget:\n  claude: 100\n");
  const cwd = freshWorkspace({ ".bottle/agents/claude.md": REPO_AGENT });
  const o = { home, cwd, env: { PATH: `${AGENTS_BIN}:${process.env.PATH}` } };
  const args = ["run", "claude", "--headless", "--prompt", "x", "--simulate", "--backend", "sandbox", "--dry-run"];

  const human = await runCli(args, o);
  expect(human.code).toBe(0);
  const lines = human.stdout.split("\n");
  const at = lines.findIndex((l) => l.startsWith("budget"));
  expect(lines[at]).toContain(`claude: 100 tokens (global budget from ${join(home, "settings.yml")})`);
  expect(lines[at + 1]).toContain(`claude: 99999999 tokens (agent claude budget from ${join(cwd, ".bottle/agents/claude.md")} (the repository's, in addition to the host's))`);

  const json = await runCli([...args, "--json"], o);
  expect(JSON.parse(json.stdout).budgets).toEqual([
    { provider: "claude", tokens: 100, per: null, scope: "global", name: null, file: join(home, "settings.yml") },
    { provider: "claude", tokens: 99999999, per: null, scope: "agent", name: "claude", file: join(cwd, ".bottle/agents/claude.md"), inAddition: true },
  ]);

  const show = await runCli(["budget", "show", "--agent", "claude", "--json"], o);
  expect(show.code).toBe(0);
  const rows = (JSON.parse(show.stdout).budgets as { scope: string; provider: string; limit: number; governs: boolean; also?: boolean }[]).filter((r) => r.provider === "claude");
  expect(rows.map((r) => [r.scope, r.limit, r.governs, r.also ?? false])).toEqual([["agent", 99999999, true, true], ["global", 100, true, false]]);
  const table = await runCli(["budget", "show", "--agent", "claude"], o);
  expect(table.stdout).toContain("(repository's; in addition)");

  const set = await runCli(["budget", "set", "agent", "claude", "claude", "500"], o);
  expect(set.code).toBe(0);
  expect(existsSync(join(home, "agents", "claude.md"))).toBe(true);
  expect(readFileSync(join(cwd, ".bottle/agents/claude.md"), "utf8")).toBe(REPO_AGENT);
  const wrongKey = await runCli(["budget", "set", "agent", "claude", "codex", "500"], o);
  expect(wrongKey.code).not.toBe(0);
  expect(wrongKey.stderr).toContain("can never apply");
});

test("run for real, the repository's generous budget does not lift the global one: the run is cut off", async () => {
  const home = freshHome();
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, "settings.yml"), "budget:\n  claude: 100\n");
  const cwd = freshWorkspace({ ".bottle/agents/claude.md": REPO_AGENT });
  const r = await runCli(["run", "claude", "--headless", "--prompt", "Do the steps.", "--simulate", "--backend", "sandbox"], { home, cwd, env: { PATH: `${AGENTS_BIN}:${process.env.PATH}` }, timeoutMs: 120_000 });
  expect(r.timedOut).toBe(false);
  expect(r.code).toBe(EXIT_BUDGET_STOPPED);
  expect(r.stderr).toContain("global budget");
  expect(r.stderr).toContain("of 100 claude tokens used");
}, 150_000);
