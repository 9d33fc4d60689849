/**
 * Where bottle keeps its state. Everything hangs off $BOTTLE_HOME (default ~/.bottle) so tests and users can
 * point a whole installation somewhere else with one variable.
 */
import { homedir } from "node:os";
import { join, resolve } from "node:path";

export function bottleHome(env: Record<string, string | undefined> = process.env): string {
  const h = env.BOTTLE_HOME;
  if (h && h.trim() !== "") return resolve(h);
  return join(env.HOME && env.HOME !== "" ? env.HOME : homedir(), ".bottle");
}

export interface HomePaths {
  home: string;
  settings: string;
  agents: string;
  bottles: string;
  skills: string;
  ca: string;
  ledger: string;
  runs: string;
}

export function homePaths(home = bottleHome()): HomePaths {
  return {
    home,
    settings: join(home, "settings.yml"),
    agents: join(home, "agents"),
    bottles: join(home, "bottles"),
    skills: join(home, "skills"),
    ca: join(home, "ca"),
    ledger: join(home, "bottle.db"),
    runs: join(home, "runs"),
  };
}

/** Per-run state directory: home, workspace snapshot, frozen state. */
export function runDir(runId: string, home = bottleHome()): string {
  return join(home, "runs", runId);
}
