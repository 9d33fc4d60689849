/**
 * Cancelling `bottle run`'s wizard, on a real terminal, at every step (Esc or Ctrl-C, alternating) and by
 * answering No: the command prints "cancelled", exits 130, and leaves nothing behind — no run directory,
 * no run row in the ledger, no process running for this $BOTTLE_HOME.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { Terminal } from "../support/terminal.ts";
import { ledgerRuns, MAIN, processesFor, runDirs, shellEnv, wizardHome } from "../support/wizard-fixture.ts";

let term: Terminal | undefined;
afterEach(() => {
  term?.close();
  term = undefined;
});

/** Each step: what the screen shows when it is asked, and the keys that answer it with the default. */
const STEPS: { name: string; shows: string; answer: (t: Terminal) => void }[] = [
  { name: "the agent select", shows: "Which agent?", answer: (t) => (t.type("reviewer"), t.keys("Enter")) },
  { name: "the bottle multiselect", shows: "Which bottles?", answer: (t) => t.keys("Enter") },
  { name: "the label", shows: "Label for this run", answer: (t) => t.keys("Enter") },
  { name: "the color", shows: "◆  Color", answer: (t) => t.keys("Enter") },
  { name: "a masked env prompt", shows: "Your GitHub token", answer: (t) => (t.type("ghp_x"), t.keys("Enter")) },
  { name: "a plain env prompt", shows: "Review style", answer: (t) => (t.type("strict"), t.keys("Enter")) },
  { name: "the y/N confirm", shows: "Launch this run?", answer: () => {} },
];

async function expectNothingLeft(t: Terminal, home: string): Promise<void> {
  expect(await t.exited()).toBe(130);
  expect(t.screen()).toContain("cancelled");
  expect(runDirs(home)).toEqual([]);
  expect(ledgerRuns(home)).toEqual([]);
  expect(processesFor(home)).toEqual([]);
}

function startRun(): { t: Terminal; home: string } {
  const fx = wizardHome();
  term = Terminal.start(["bun", MAIN, "run", "--simulate", "--backend", "sandbox"], { cwd: fx.project, env: shellEnv(fx.home) });
  return { t: term, home: fx.home };
}

describe("cancelling the bottle run wizard", () => {
  for (const [i, step] of STEPS.entries()) {
    const key = i % 2 === 0 ? "Escape" : "C-c";
    test(`${key} at ${step.name} exits 130 and leaves nothing behind`, async () => {
      const { t, home } = startRun();
      for (const before of STEPS.slice(0, i)) {
        await t.waitFor(before.shows);
        before.answer(t);
      }
      await t.waitFor(step.shows);
      t.keys(key);
      await expectNothingLeft(t, home);
    }, 60_000);
  }

  test("No at the confirm (the default, on Enter) exits 130 and leaves nothing behind", async () => {
    const { t, home } = startRun();
    for (const step of STEPS.slice(0, -1)) {
      await t.waitFor(step.shows);
      step.answer(t);
    }
    await t.waitFor("○ Yes / ● No");
    t.keys("Enter");
    await expectNothingLeft(t, home);
  }, 60_000);
});
