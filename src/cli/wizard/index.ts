/**
 * The interactive front door of `bottle run`: asks what to run and returns the LaunchRequest the headless
 * flags would have built, or null when the user cancelled (Ctrl-C, Esc, or No at the final question).
 * `bottle run` calls it only when isInteractive() — a TTY on stdin and stdout, not CI, not a test — so a
 * job without a person at a terminal never waits on a prompt.
 */
import { homedir } from "node:os";
import { describePlan, resolveLaunch, type LaunchRequest } from "../../launch/index.ts";
import { loadCatalog } from "../../manifest/index.ts";
import { wizardFlow, type WizardDeps } from "./flow.ts";

export { interactiveSession as isInteractive } from "../interactive.ts";

export function runWizard(partial: Partial<LaunchRequest>, overrides: Partial<WizardDeps> = {}): Promise<LaunchRequest | null> {
  const cwd = partial.cwd ?? process.cwd();
  return wizardFlow(partial, {
    catalog: () => loadCatalog({ cwd }),
    resolve: resolveLaunch,
    describe: describePlan,
    hostEnv: process.env,
    cwd,
    home: homedir(),
    colorOn: !process.env.NO_COLOR,
    ...overrides,
  });
}
