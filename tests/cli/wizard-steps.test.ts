/**
 * The wizard on a real terminal (tmux), step by step: the filtered agent select, the bottle multiselect
 * with the default ticked, label and color (shown in color), the env prompts (masked for secrets), the
 * preflight summary and the y/N whose default is No. The wizard runs alone through a small entry script
 * that writes the LaunchRequest it returns, so every field can be checked without launching anything.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { defaultColor } from "../../src/cli/wizard/steps/identity.ts";
import { ANSI_COLORS } from "../../src/launch/types.ts";
import { Terminal } from "../support/terminal.ts";
import { ENTRY, ledgerRuns, runDirs, shellEnv, wizardHome } from "../support/wizard-fixture.ts";

let term: Terminal | undefined;
afterEach(() => {
  term?.close();
  term = undefined;
});

function startWizard(partial: Record<string, unknown>, extraEnv: Record<string, string> = {}) {
  const fx = wizardHome();
  const out = join(fx.project, "..", "request.json");
  term = Terminal.start(["bun", ENTRY, out, JSON.stringify({ simulate: true, backend: "sandbox", ...partial })], { cwd: fx.project, env: shellEnv(fx.home, extraEnv) });
  return { ...fx, out, t: term, result: () => JSON.parse(readFileSync(out, "utf8")) };
}

/** The part of the screen from the last time `marker` was drawn (clack redraws each step in place). */
function frame(screen: string, marker: string): string {
  return screen.slice(screen.lastIndexOf(marker));
}

describe("the bottle run wizard, on a real terminal", () => {
  test("every step, from the agent to Yes, builds the request the flags would have", async () => {
    const { t, result, project, home } = startWizard({}, { REVIEW_STYLE: "gentle" });

    // 1. Agents: name, provider and source file on every row; typing filters.
    let s = await t.waitFor("Which agent?");
    expect(s).toMatch(/claude\s+claude\s+built in/);
    expect(s).toMatch(/codex\s+codex\s+built in/);
    expect(s).toMatch(new RegExp(`reviewer\\s+claude\\s+${join(home, "agents", "reviewer.md")}`));
    t.type("rev");
    s = frame(await t.waitFor("(1 match)"), "Which agent?");
    expect(s).toContain("reviewer");
    expect(s).not.toMatch(/codex\s+codex/);
    t.keys("Enter");

    // 2. Bottles: the agent's default is ticked, the others are not; the answer keeps the order ticked.
    s = frame(await t.waitFor("Which bottles?"), "Which bottles?");
    expect(s).toContain("◼ review");
    for (const other of ["anthropic", "openai", "tools"]) expect(s).toContain(`◻ ${other}`);
    t.keys("Down", "Space"); // tick tools
    await t.waitFor("◼ tools");
    t.keys("Up", "Space"); // untick review…
    await t.waitFor("◻ review");
    t.keys("Space"); // …and tick it again: now after tools
    await t.waitFor(/◼ review[^\n]*\n[^\n]*◼ tools/);
    t.keys("Enter");

    // 3. Label (default: the agent name) and color.
    s = frame(await t.waitFor("Label for this run"), "Label for this run");
    expect(s).toContain("reviewer"); // the placeholder
    t.type("night-review");
    t.keys("Enter");
    await t.waitFor("Color");
    const start = ANSI_COLORS.indexOf(defaultColor("night-review"));
    const steps = (ANSI_COLORS.indexOf("magenta") - start + ANSI_COLORS.length) % ANSI_COLORS.length;
    for (let i = 0; i < steps; i++) t.keys("Down");
    t.keys("Enter");

    // 4. Env values: the token is masked; the style keeps the host's value on Enter.
    s = await t.waitFor("Your GitHub token ($GH_TOKEN");
    t.type("ghp_wizardsecret123");
    await t.waitFor("▪▪▪▪▪▪▪▪▪▪▪▪▪▪▪▪▪▪▪");
    t.keys("Enter");
    s = await t.waitFor("Review style ($REVIEW_STYLE");
    expect(s).toContain("Review style ($REVIEW_STYLE for review.md): Enter keeps your $REVIEW_STYLE");
    t.keys("Enter");

    // 5. The preflight summary, and a y/N that defaults to No.
    s = frame(await t.waitFor("Launch this run?"), "Preflight");
    expect(s).toContain("reviewer (provider claude");
    expect(s).toMatch(/bottles\s+tools, review \(with anthropic\)/);
    expect(s).toMatch(/label\s+night-review, magenta/);
    expect(s).toContain("api.github.com");
    expect(s).toContain("registry.example.com");
    expect(s).toMatch(/budget\s+/);
    expect(s).toMatch(/on budget\s+cutoff/);
    expect(s).toMatch(/backend\s+sandbox/);
    expect(s).toContain(project);
    expect(s).toContain("○ Yes / ● No");
    t.keys("y");
    expect(await t.exited()).toBe(0);
    expect(t.screen()).not.toContain("ghp_wizardsecret123");

    expect(result()).toEqual({
      agent: "reviewer",
      bottles: ["tools", "review"],
      label: "night-review",
      color: "magenta",
      headless: false,
      simulate: true,
      backend: "sandbox",
      envAnswers: { GH_TOKEN: "ghp_wizardsecret123", REVIEW_STYLE: "gentle" },
    });
    // The wizard itself starts nothing: that is the launcher's job, after it returns.
    expect(runDirs(home)).toEqual([]);
    expect(ledgerRuns(home)).toEqual([]);
  }, 60_000);

  test("the color options are drawn in their own colors", async () => {
    const { t } = startWizard({ agent: "reviewer", bottles: ["review"], label: "x" }, { NO_COLOR: "" });
    const s = await t.waitFor("bright-white", 20_000, true);
    for (const [i, c] of ANSI_COLORS.entries()) {
      const code = i < 8 ? 30 + i : 90 + i - 8;
      expect(s).toContain(`\x1b[${code}m■ ${c}`);
    }
  }, 30_000);

  test("what the command line already says is not asked again, and filtering by provider works", async () => {
    const { t, result } = startWizard({ agent: "nope" });
    let s = await t.waitFor("Which agent?");
    expect(s).toContain('there is no agent called "nope"');
    t.type("codex");
    s = frame(await t.waitFor("(1 match)"), "Which agent?");
    expect(s).toMatch(/codex\s+codex\s+built in/);
    expect(s).not.toContain("reviewer");
    t.keys("Escape");
    expect(await t.exited()).toBe(130);
    expect(result()).toBeNull();
    term!.close();

    const given = startWizard({ agent: "reviewer", bottles: ["review"], label: "given", color: "cyan" }, { GH_TOKEN: "from-host", REVIEW_STYLE: "terse" });
    s = await given.t.waitFor("Your GitHub token");
    for (const asked of ["Which agent?", "Which bottles?", "Label for this run", "◆  Color"]) expect(s).not.toContain(asked);
    given.t.keys("Enter");
    await given.t.waitFor("Review style");
    given.t.type("strict");
    given.t.keys("Enter");
    await given.t.waitFor("Launch this run?");
    given.t.keys("Enter"); // the default: No
    expect(await given.t.exited()).toBe(130);
    expect(given.t.screen()).toContain("cancelled");
    expect(given.result()).toBeNull();
    term = given.t;
  }, 60_000);
});
