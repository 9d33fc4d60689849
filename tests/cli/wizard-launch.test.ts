/**
 * The wizard's two ends. Yes at the confirm launches the run for real: the real Claude Code CLI in a
 * sandbox bottle, attached to the terminal, answered by bottle's simulated provider through the metering
 * proxy; the run row carries the label and color chosen in the wizard, and the session ends with its usage
 * and the resume command. And with no person at a terminal (no TTY, or CI) the wizard is never shown:
 * `bottle run` fails at once with the headless invocation, so a CI job cannot hang on a prompt.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { defaultColor } from "../../src/cli/wizard/steps/identity.ts";
import { ANSI_COLORS } from "../../src/launch/types.ts";
import { AGENTS_BIN } from "../helpers/agent-suite.ts";
import { Terminal } from "../support/terminal.ts";
import { ledgerRuns, MAIN, processesFor, runDirs, shellEnv, wizardHome } from "../support/wizard-fixture.ts";

let term: Terminal | undefined;
afterEach(() => {
  term?.close();
  term = undefined;
});

describe("bottle run, interactive", () => {
  test("Yes at the confirm launches the agent on this terminal, metered, with the wizard's label and color", async () => {
    if (!existsSync(join(AGENTS_BIN, "claude"))) throw new Error(`claude is not installed in ${AGENTS_BIN}: run bash scripts/install-agents.sh`);
    const fx = wizardHome();
    const t = (term = Terminal.start(["bun", MAIN, "run", "claude", "--simulate", "--backend", "sandbox"], { cwd: fx.project, env: shellEnv(fx.home) }));
    await t.waitFor("Which bottles?");
    t.keys("Enter"); // the agent's default bottle, anthropic
    await t.waitFor("Label for this run");
    t.type("wizard-e2e");
    t.keys("Enter");
    await t.waitFor("◆  Color");
    t.keys("Up", "Enter"); // the color just above the default one
    const color = ANSI_COLORS[(ANSI_COLORS.indexOf(defaultColor("wizard-e2e")) + ANSI_COLORS.length - 1) % ANSI_COLORS.length];
    await t.waitFor("Launch this run?");
    expect(runDirs(fx.home)).toEqual([]);
    t.keys("y");

    // Claude Code's own screen, on this terminal. Its first-run trust question, when it asks, is answered.
    const screen = await t.waitFor(/Yes, I trust this folder|Welcome/, 60_000);
    if (screen.includes("Yes, I trust this folder")) t.keys("Enter");
    await t.waitFor("Welcome", 30_000);
    const [run] = ledgerRuns(fx.home);
    expect(run).toMatchObject({ label: "wizard-e2e", color, agent: "claude", bottles: '["anthropic"]' });
    expect(t.title()).toBe("wizard-e2e"); // the terminal is named after the run
    expect(runDirs(fx.home)).toEqual([run!.id]);

    t.type("say hello");
    t.keys("Enter");
    await t.waitFor(/● This answer comes from bottle.s built-in simulated provider/, 60_000);
    await t.waitFor(/✻ [A-Z][a-z]+ for \d+/, 60_000); // the turn is over: the agent waits for the next prompt
    t.keys("C-c");
    await t.waitFor("Press Ctrl-C again");
    t.keys("C-c");
    expect(await t.exited(60_000)).toBe(0);
    const end = t.screen();
    expect(end).toMatch(new RegExp(`run ${run!.id}: [1-9]\\d* metered requests?, [1-9][\\d,]* tokens`));
    expect(end).toContain(`bottle resume ${run!.id}`);
    expect(processesFor(fx.home)).toEqual([]);
  }, 180_000);
});

describe("bottle run with nobody at a terminal", () => {
  test("no TTY: fails at once with the headless invocation and draws no prompt", async () => {
    const fx = wizardHome();
    for (const stdin of ["ignore", "pipe"] as const) {
      const p = Bun.spawn(["bun", MAIN, "run", "--simulate"], { cwd: fx.project, env: shellEnv(fx.home), stdin, stdout: "pipe", stderr: "pipe" });
      const timer = setTimeout(() => p.kill("SIGKILL"), 30_000);
      const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
      clearTimeout(timer);
      expect(code).toBe(2);
      expect(out).toBe("");
      expect(err).toContain("no terminal to ask on");
      expect(err).toContain("--headless --prompt");
      expect(err).not.toContain("Which agent?");
    }
    expect(runDirs(fx.home)).toEqual([]);
    expect(ledgerRuns(fx.home)).toEqual([]);
  }, 60_000);

  test("a TTY under CI is not interactive either: no wizard, the same clear error", async () => {
    const fx = wizardHome();
    const t = (term = Terminal.start(["bun", MAIN, "run", "--simulate"], { cwd: fx.project, env: shellEnv(fx.home, { CI: "true" }) }));
    expect(await t.exited()).toBe(2);
    const s = t.screen();
    expect(s).toContain("no terminal to ask on");
    expect(s).not.toContain("Which agent?");
  }, 30_000);
});
