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

/**
 * Types a prompt into Claude Code's input box and submits it, the way a person does: the Enter key goes
 * only once the text is in the box. Sent together, as one read (a loaded machine delays the agent's first
 * reads), text and Enter look like a paste, and Claude Code keeps a pasted Enter as a newline in the box.
 * An Enter on an empty box does nothing, so one more is pressed when nothing has started after a while.
 */
async function submitPrompt(t: Terminal, text: string): Promise<void> {
  await t.waitFor(/❯\s*\n/, 30_000); // the empty input box is drawn
  t.type(text);
  await t.waitFor(new RegExp(`❯\\s${text}`), 30_000); // (the space Claude Code draws after ❯ is a no-break space)
  t.keys("Enter");
  const started = /esc to interrupt|This answer comes from/;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      await t.waitFor(started, 5_000);
      return;
    } catch {
      t.keys("Enter");
    }
  }
  await t.waitFor(started, 1);
}

/**
 * Waits for Claude Code's welcome, answering with Enter each question it asks first ("Enter to confirm"):
 * the folder trust question always, and whatever else a first run of this version may ask.
 */
async function passFirstRunQuestions(t: Terminal): Promise<void> {
  const deadline = Date.now() + 90_000;
  let answeredAt = 0;
  for (;;) {
    const s = await t.waitFor(/Welcome|Enter to confirm/, Math.max(1, deadline - Date.now()));
    if (s.includes("Welcome")) return;
    if (Date.now() - answeredAt > 2_000) {
      t.keys("Enter");
      answeredAt = Date.now();
    }
    await Bun.sleep(100);
  }
}

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

    // Claude Code's own screen, on this terminal. Its first-run questions (the folder trust question, on
    // every fresh run home) are answered with their defaults.
    await passFirstRunQuestions(t);
    const [run] = ledgerRuns(fx.home);
    expect(run).toMatchObject({ label: "wizard-e2e", color, agent: "claude", bottles: '["anthropic"]' });
    expect(t.title()).toBe("wizard-e2e"); // the terminal is named after the run
    expect(runDirs(fx.home)).toEqual([run!.id]);

    await submitPrompt(t, "say hello");
    await t.waitFor(/● This answer comes from bottle.s built-in simulated provider/, 60_000);
    // The turn is over, the agent waits for the next prompt: "✻ <verb> for 1s", the verb picked at random
    // from Claude Code's list, some of them not ASCII ("Sautéed").
    await t.waitFor(/✻ \p{L}+ for \d+/u, 60_000);
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
