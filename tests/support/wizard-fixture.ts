/**
 * Fixtures for the wizard tests: a fresh $BOTTLE_HOME holding one agent of our own (`reviewer`, whose
 * default bottle `review` extends the built-in anthropic bottle and asks for two env values at launch) and
 * a second bottle to toggle (`tools`); the environment a person's shell would give the command (a TTY
 * terminal type, no CI, no test-runner variables); and the checks that a cancelled wizard left nothing
 * behind: no run directory, no run row in the ledger, no process running for this home.
 */
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AGENTS_BIN } from "../helpers/agent-suite.ts";
import { REPO } from "../helpers/bottles.ts";

export const MAIN = join(REPO, "src/cli/main.ts");
export const ENTRY = join(REPO, "tests/fixtures/wizard-entry.ts");

export interface WizardHome {
  home: string;
  project: string;
}

export function wizardHome(): WizardHome {
  const root = mkdtempSync(join(tmpdir(), "wizard-"));
  const home = join(root, "bottle-home");
  const project = join(root, "project");
  for (const d of [join(home, "agents"), join(home, "bottles"), project]) mkdirSync(d, { recursive: true });
  writeFileSync(join(home, "agents", "reviewer.md"), "---\nprovider: claude\nbottle: review\n---\nReview the change.\n");
  writeFileSync(
    join(home, "bottles", "review.md"),
    [
      "---",
      "extends: [anthropic]",
      "env:",
      '  GH_TOKEN: "?Your GitHub token"',
      '  REVIEW_STYLE: "?Review style"',
      "egress:",
      "  routes:",
      "    - host: api.github.com",
      "---",
      "",
    ].join("\n"),
  );
  writeFileSync(join(home, "bottles", "tools.md"), "---\negress:\n  routes:\n    - host: registry.example.com\n---\n");
  return { home, project };
}

/** What a person's interactive shell would pass: no CI, no NODE_ENV=test, no BUN_TEST. */
export function shellEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  const keep = ["HOME", "TMPDIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "TZ", "NO_COLOR"];
  const env: Record<string, string> = { PATH: `${AGENTS_BIN}:${process.env.PATH}`, TERM: "screen-256color", LANG: "C.UTF-8", BOTTLE_HOME: home };
  for (const k of keep) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  return { ...env, ...extra };
}

/** Run ids with a row in the ledger (none when the ledger was never created). */
export function ledgerRuns(home: string): { id: string; label: string; color: string | null; agent: string; bottles: string }[] {
  const file = join(home, "bottle.db");
  if (!existsSync(file)) return [];
  const db = new Database(file, { readonly: true });
  try {
    const hasRuns = db.query("select name from sqlite_master where type = 'table' and name = 'runs'").get();
    return hasRuns ? (db.query("select id, label, color, agent, bottles from runs").all() as never) : [];
  } finally {
    db.close();
  }
}

export function runDirs(home: string): string[] {
  const d = join(home, "runs");
  return existsSync(d) ? readdirSync(d) : [];
}

/** Pids of live processes whose environment has BOTTLE_HOME=home (anything a launch would have started). */
export function processesFor(home: string): number[] {
  const needle = `BOTTLE_HOME=${home}`;
  const found: number[] = [];
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${p}/environ`, "utf8").split("\0").includes(needle)) found.push(Number(p));
    } catch {
      // the process ended while we looked, or is not ours to read
    }
  }
  return found;
}
