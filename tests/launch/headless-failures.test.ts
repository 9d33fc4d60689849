/**
 * `bottle run --headless` refuses an incomplete invocation before anything starts: no ledger, no run
 * directory, no proxy, no bottle. Each message shows the invocation that works. The real CLI is spawned
 * with stdin closed and a hard time limit, so a prompt that waited for input would fail the test.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AGENTS_BIN } from "../helpers/agent-suite.ts";
import { freshHome, runCli, type CliResult } from "../support/cli.ts";

function writeManifest(home: string, kind: "agents" | "bottles", name: string, text: string): void {
  mkdirSync(join(home, kind), { recursive: true });
  writeFileSync(join(home, kind, `${name}.md`), text);
}

async function refused(args: string[], prepare?: (home: string) => void, env?: Record<string, string>): Promise<CliResult & { home: string }> {
  const home = freshHome();
  prepare?.(home);
  const r = await runCli(args, { home, ...(env ? { env } : {}) });
  expect(r.timedOut).toBe(false);
  // Nothing started: no ledger, no run state.
  expect(existsSync(join(home, "bottle.db"))).toBe(false);
  expect(existsSync(join(home, "runs"))).toBe(false);
  expect(r.stdout).toBe("");
  return { ...r, home };
}

describe("bottle run --headless fails clearly before anything starts", () => {
  test("a missing agent name", async () => {
    const r = await refused(["run", "--headless", "--prompt", "fix the tests"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("bottle run needs an agent name");
    expect(r.stderr).toContain('bottle run claude --headless --prompt "…"');
  });

  test("a missing --prompt", async () => {
    const r = await refused(["run", "codex", "--headless"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("a headless run needs --prompt");
    expect(r.stderr).toContain('bottle run codex --headless --prompt "…"');
  });

  test("an unknown agent, with a did-you-mean", async () => {
    const r = await refused(["run", "cluade", "--headless", "--prompt", "x"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown agent "cluade"');
    expect(r.stderr).toContain("did you mean claude?");
    expect(r.stderr).toContain('bottle run claude --headless --prompt "…"');
  });

  test("no bottle: the agent has no default and no --bottle was given", async () => {
    const r = await refused(["run", "lonely", "--headless", "--prompt", "x"], (home) => writeManifest(home, "agents", "lonely", "---\nprovider: claude\n---\nA lonely agent.\n"));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("agent lonely has no default bottle and no --bottle was given");
    expect(r.stderr).toContain('bottle run lonely --headless --prompt "…" --bottle anthropic');
    expect(r.stderr).toContain(join(r.home, "agents", "lonely.md"));
  });

  test("an unknown --bottle, with a did-you-mean", async () => {
    const r = await refused(["run", "claude", "--headless", "--prompt", "x", "--bottle", "anthropik"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown bottle "anthropik"');
    expect(r.stderr).toContain("did you mean anthropic?");
    expect(r.stderr).toContain("--bottle anthropic");
  });

  test("without --headless and without a terminal, it says to pass --headless instead of prompting", async () => {
    const r = await refused(["run", "claude", "--prompt", "x"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no terminal to ask on");
    expect(r.stderr).toContain('bottle run claude --headless --prompt "…"');
  });

  test('a "?message" env value that the host does not set', async () => {
    const r = await refused(["run", "claude", "--headless", "--prompt", "x", "--simulate", "--bottle", "anthropic", "--bottle", "gh"], (home) =>
      writeManifest(home, "bottles", "gh", '---\nenv:\n  GH_TOKEN: "?Your GitHub token"\n---\n'),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("env.GH_TOKEN asks for a value at launch");
    expect(r.stderr).toContain("export GH_TOKEN=");
    expect(r.stderr).toContain(join(r.home, "bottles", "gh.md"));
  });

  test("an auth: secret that the host does not set (real provider)", async () => {
    const r = await refused(["run", "claude", "--headless", "--prompt", "x"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ANTHROPIC_API_KEY");
  });

  for (const [flag, value, says] of [
    ["--color", "purple", "unknown color"],
    ["--budget", "lots", "not a positive whole number"],
    ["--budget", "0", "not a positive whole number"],
    ["--budget", "0x10", "not a positive whole number"],
    ["--budget", "1e3", "not a positive whole number"],
    ["--shutdown", "pause", "unknown shutdown policy"],
    ["--backend", "vm", "unknown backend"],
    ["--workspace", "overlay", "unknown workspace mode"],
    ["--label", "has space", "is not usable"],
  ] as const) {
    test(`a bad ${flag} ${value}`, async () => {
      const r = await refused(["run", "claude", "--headless", "--prompt", "x", "--simulate", flag, value]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(says);
    });
  }

  test("a skill directory that does not exist, before the run is registered", async () => {
    const r = await refused(["run", "skilled", "--headless", "--prompt", "x", "--simulate", "--backend", "sandbox"], (home) =>
      writeManifest(home, "agents", "skilled", "---\nprovider: claude\nbottle: anthropic\nskills: [review]\n---\nAn agent with a skill.\n"),
      // The agent CLI is on the PATH, so nothing else stops the launch before the skill would be copied in.
      { PATH: `${AGENTS_BIN}:${process.env.PATH}` },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`skill review not found in ${join(r.home, "skills")}`);
    expect(r.stderr).toContain(join(r.home, "agents", "skilled.md"));
    expect(r.stderr).toContain(`create ${join(r.home, "skills", "review")}/SKILL.md`);
  });

  test("--json without --dry-run", async () => {
    const r = await refused(["run", "claude", "--headless", "--prompt", "x", "--json"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--json goes with --dry-run");
  });
});
