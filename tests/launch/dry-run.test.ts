/**
 * `bottle run --dry-run` prints the resolved plan and starts nothing. The flags reach the plan as given:
 * repeated --bottle keeps its order, --budget/--shutdown/--backend/--label/--color/--workspace are
 * forwarded, and the label is made unique against bottles that are running or frozen (found through the
 * backends' own listing of run state files, checked against live processes).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AGENTS_BIN } from "../helpers/agent-suite.ts";
import { freshWorkspace } from "../helpers/bottles.ts";
import { freshHome, runCli } from "../support/cli.ts";
import { liveBottle as startLive, type LiveBottle } from "../support/live-bottle.ts";

const PATH = `${AGENTS_BIN}:${process.env.PATH}`;
const sleepers: LiveBottle[] = [];
afterAll(() => {
  for (const s of sleepers) s.kill();
});

function liveBottle(home: string, runId: string, label: string): void {
  sleepers.push(startLive(home, runId, label));
}

function writeManifest(home: string, kind: "agents" | "bottles", name: string, text: string): void {
  mkdirSync(join(home, kind), { recursive: true });
  writeFileSync(join(home, kind, `${name}.md`), text);
}

async function dryRun(home: string, args: string[], json = true): Promise<{ code: number; stdout: string; stderr: string; plan: any }> {
  const cwd = freshWorkspace();
  const r = await runCli(["run", ...args, "--dry-run", ...(json ? ["--json"] : [])], { home, cwd, env: { PATH } });
  expect(r.timedOut).toBe(false);
  expect(existsSync(join(home, "bottle.db"))).toBe(false);
  return { ...r, plan: json && r.code === 0 ? JSON.parse(r.stdout) : undefined };
}

describe("bottle run --dry-run", () => {
  test("the human form names agent, bottles, routes, budget and its source, policy, backend, workspace and mode", async () => {
    const home = freshHome();
    const r = await dryRun(home, ["claude", "--headless", "--prompt", "fix the build", "--simulate", "--backend", "sandbox", "--budget", "50"], false);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    const row = (k: string) => lines.find((l) => l.startsWith(k.padEnd(10)))?.slice(11);
    expect(row("agent")).toBe("claude (provider claude; built in)");
    expect(row("bottles")).toBe("anthropic");
    expect(row("label")).toBe("claude");
    expect(row("egress")).toBe("api.anthropic.com (→ bottle's simulated provider)");
    expect(row("budget")).toBe("claude: 50 tokens (run budget (--budget))");
    expect(row("on budget")).toBe("cutoff (default)");
    expect(row("backend")).toBe("sandbox (--backend)");
    expect(row("workspace")).toContain("(bind: the agent edits it in place)");
    expect(row("mode")).toBe('headless, prompt "fix the build"');
    expect(row("provider")).toContain("SIMULATED");
    expect(existsSync(join(home, "runs"))).toBe(false);
  });

  test("--json carries every flag, and repeated --bottle keeps its order", async () => {
    const home = freshHome();
    writeManifest(home, "bottles", "tools", "---\negress:\n  routes:\n    - host: registry.npmjs.org\n---\n");
    writeManifest(home, "bottles", "base", "---\nenv:\n  LEVEL: base\n---\n");
    const args = ["claude", "--headless", "--prompt", "go", "--simulate", "--bottle", "tools", "--bottle", "anthropic", "--bottle", "base"];
    const flags = ["--budget", "1234", "--shutdown", "freeze", "--backend", "sandbox", "--label", "nightly", "--color", "bright-cyan", "--workspace", "copy"];
    const { code, plan } = await dryRun(home, [...args, ...flags]);
    expect(code).toBe(0);
    expect(plan.bottles).toEqual(["tools", "anthropic", "base"]);
    expect(plan.routes.map((r: { host: string }) => r.host)).toEqual(["registry.npmjs.org", "api.anthropic.com"]);
    expect(plan.budgets).toEqual([{ provider: "claude", tokens: 1234, per: null, scope: "run", name: null, file: null }]);
    expect(plan.shutdown).toEqual({ policy: "freeze", from: "flag", file: null });
    expect(plan.backend).toEqual({ name: "sandbox", via: "flag" });
    expect(plan.label).toBe("nightly");
    expect(plan.color).toBe("bright-cyan");
    expect(plan.workspace.mode).toBe("copy");
    expect(plan.headless).toBe(true);
    expect(plan.prompt).toBe("go");
    expect(plan.simulated).toBe(true);
    expect(plan.runId).toMatch(/^claude-\d{8}-\d{6}-[0-9a-f]{4}$/);

    // Reversed order, reversed plan.
    const rev = await dryRun(home, ["claude", "--headless", "--prompt", "go", "--simulate", "--backend", "sandbox", "--bottle", "base", "--bottle", "anthropic", "--bottle", "tools"]);
    expect(rev.plan.bottles).toEqual(["base", "anthropic", "tools"]);
  });

  test("budgets and the policy come from the agent file when no flag is given, with the file named", async () => {
    const home = freshHome();
    writeManifest(home, "agents", "careful", "---\nprovider: claude\nbottle: anthropic\nbudget:\n  claude: { tokens: 9000, per: day }\nshutdown: kill\n---\nBe careful.\n");
    const { plan } = await dryRun(home, ["careful", "--headless", "--prompt", "go", "--simulate", "--backend", "sandbox"]);
    const file = join(home, "agents", "careful.md");
    expect(plan.budgets).toEqual([{ provider: "claude", tokens: 9000, per: "day", scope: "agent", name: "careful", file }]);
    expect(plan.shutdown).toEqual({ policy: "kill", from: "agent", file });
  });

  test("the label is made unique against running bottles: -2, then -3", async () => {
    const home = freshHome();
    const args = ["claude", "--headless", "--prompt", "go", "--simulate", "--backend", "sandbox"];
    expect((await dryRun(home, args)).plan.label).toBe("claude");
    liveBottle(home, "running-1", "claude");
    const second = await dryRun(home, args);
    expect(second.plan).toMatchObject({ label: "claude-2", requestedLabel: "claude" });
    liveBottle(home, "running-2", "claude-2");
    expect((await dryRun(home, args)).plan.label).toBe("claude-3");
    // An explicit label is uniquified the same way, and the human form says why.
    liveBottle(home, "running-3", "nightly");
    const human = await dryRun(home, [...args, "--label", "nightly"], false);
    expect(human.stdout).toContain("label      nightly-2 (nightly is in use)");
    // Nothing was added to the run directory by the dry runs.
    expect(readdirSync(join(home, "runs")).sort()).toEqual(["running-1", "running-2", "running-3"]);
  });

  test("without --headless, --dry-run shows the interactive plan and needs no prompt or terminal", async () => {
    const { code, plan } = await dryRun(freshHome(), ["codex", "--simulate", "--backend", "sandbox"]);
    expect(code).toBe(0);
    expect(plan).toMatchObject({ headless: false, prompt: null, bottles: ["openai"], agent: { provider: "codex" } });
  });

  test("BOTTLE_DRY_RUN=1 acts like --dry-run (orchestrators that cannot change argv); a value that is neither on nor off is an error", async () => {
    const home = freshHome();
    const cwd = freshWorkspace();
    const args = ["run", "claude", "--headless", "--prompt", "x", "--simulate", "--backend", "sandbox"];
    const on = await runCli([...args, "--json"], { home, cwd, env: { PATH, BOTTLE_DRY_RUN: "1" } });
    expect(on.code).toBe(0);
    expect(JSON.parse(on.stdout)).toMatchObject({ label: "claude", headless: true, agent: { provider: "claude" } });
    expect(existsSync(join(home, "bottle.db"))).toBe(false);
    expect(existsSync(join(home, "runs"))).toBe(false);
    const bad = await runCli(args, { home, cwd, env: { PATH, BOTTLE_DRY_RUN: "maybe" } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('BOTTLE_DRY_RUN="maybe" is neither on nor off');
    expect(existsSync(join(home, "bottle.db"))).toBe(false);
  });

  test("the process limit: 1024 by default, a bottle's backend.pids otherwise, and what enforces it here", async () => {
    const home = freshHome();
    const r = await dryRun(home, ["claude", "--headless", "--prompt", "p", "--simulate", "--backend", "sandbox"], false);
    expect(r.code).toBe(0);
    const row = r.stdout.split("\n").find((l) => l.startsWith("processes"));
    expect(row).toMatch(/^processes +1024 processes (per bottle|for all of root's sandbox bottles together) \((pids cgroup v[12]|RLIMIT_NPROC)/);
    writeManifest(home, "bottles", "many", "---\nbackend:\n  pids: 2048\n---\n");
    const j = await dryRun(home, ["claude", "--bottle", "many", "--headless", "--prompt", "p", "--simulate", "--backend", "sandbox"]);
    expect(j.code).toBe(0);
    expect(j.plan.processes.limit).toBe(2048);
    expect(j.plan.processes.how).toStartWith("2048 processes");
  });

  test("a backend.pids that is not a whole number in range is an error naming the file, the field and the fix", async () => {
    const home = freshHome();
    writeManifest(home, "bottles", "tiny", "---\nbackend:\n  pids: 5\n---\n");
    const r = await dryRun(home, ["claude", "--bottle", "tiny", "--headless", "--prompt", "p", "--simulate", "--backend", "sandbox"], false);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("tiny.md");
    expect(r.stderr).toContain("backend.pids");
    expect(r.stderr).toContain("from 128 to 4194304");
    expect(r.stderr).toContain("pids: 2048");
  });
});
