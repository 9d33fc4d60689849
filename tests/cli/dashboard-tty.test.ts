/**
 * `bottle dashboard` in a real terminal: the compiled binary runs in a tmux pane (120x40, its own tmux
 * server), next to a live stand-in run — a real process that owns the run in the same ledger and polls its
 * command queue as a launch does (tests/support/standin-run.ts). Pressing `c` makes that process cut the run
 * off (the ledger records the action, admission refuses, the row changes), `k` asks before it kills, and
 * `q`, like SIGTERM, gives the terminal back: the main screen with what was on it, the cursor shown.
 * So does an error while it runs (the ledger losing a table under it), before the error is printed.
 * NO_COLOR (which every test sets) leaves the screen without a single escape of color; without it, the
 * run's label is drawn in the run's color.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "kysely";
import { admit } from "../../src/enforce/admission.ts";
import { pidAlive } from "../../src/enforce/run-control.ts";
import { sqlEnforceStore } from "../../src/enforce/sql-store.ts";
import { connectLedger, recordUsage, type LedgerDb } from "../../src/ledger/index.ts";
import { cliEnv, compiledBottle, type CliEnv } from "../helpers/compiled-cli.ts";
import { killStandins, startStandin, type Standin } from "../support/standin.ts";

setDefaultTimeout(60_000);

const SOCKET = `bottle-dash-${process.pid}`;
let where: CliEnv;
let db: LedgerDb;
let bin: string;
let run: Standin;

function tmux(...args: string[]): string {
  // Its own server, with its socket in the test's temp tree (removed with it), whatever tmux the user runs.
  const env: Record<string, string | undefined> = { ...process.env, TMUX_TMPDIR: process.env.TMPDIR };
  delete env.TMUX;
  const r = Bun.spawnSync(["tmux", "-L", SOCKET, "-f", "/dev/null", ...args], { env, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`tmux ${args[0]} failed: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

const screen = () => tmux("capture-pane", "-p", "-t", "dash");
const modes = () => tmux("display", "-p", "-t", "dash", "#{alternate_on} #{cursor_flag}").trim();
const type = (text: string) => tmux("send-keys", "-t", "dash", "-l", text);
const press = (key: string) => tmux("send-keys", "-t", "dash", key);

async function until<T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the pane shows:\n${screen()}`);
    await Bun.sleep(50);
  }
}

/** The pid of the process the pane's shell is running (the dashboard), if any. */
function dashboardPid(): number | undefined {
  const shell = tmux("display", "-p", "-t", "dash", "#{pane_pid}").trim();
  const kids = readFileSync(`/proc/${shell}/task/${shell}/children`, "utf8").trim();
  return kids ? Number(kids.split(/\s+/)[0]) : undefined;
}

const rowOf = (label: string) => screen().split("\n").find((l) => l.startsWith(`› ${label} `) || l.startsWith(`  ${label} `));

beforeAll(async () => {
  bin = await compiledBottle();
  where = cliEnv();
  writeFileSync(join(where.home, "settings.yml"), "budget:\n  claude: 200000\n");
  db = connectLedger({ path: join(where.home, "bottle.db") });
  run = await startStandin(join(where.home, "bottle.db"), "tty-run", "claude", ["anthropic"]);
  await db.updateTable("runs").set({ color: "magenta" }).where("id", "=", "tty-run").execute();
  await recordUsage(db, [{ runId: "tty-run", provider: "claude", totalTokens: 61_000, at: Date.now() }]);
  tmux("new-session", "-d", "-s", "dash", "-x", "120", "-y", "40", "-c", where.cwd, "-e", `BOTTLE_HOME=${where.home}`, "-e", "TZ=UTC", "-e", "PS1=$ ", "bash", "--norc", "--noprofile");
});

afterAll(async () => {
  const pid = dashboardPid();
  if (pid && pidAlive(pid)) process.kill(pid, "SIGKILL");
  tmux("kill-server");
  killStandins();
  await db.destroy();
});

describe("the live dashboard in a terminal", () => {
  test("c cuts a live run off through its own process; k asks first; q restores the terminal", async () => {
    type("echo BEFORE-DASHBOARD");
    press("Enter");
    type(`${bin} dashboard; echo EXIT=$?`);
    press("Enter");
    const first = await until("the run's row", () => rowOf("claude"));
    expect(first.replace(/\s+/g, " ")).toMatch(/^› claude claude - - running \d+s 61,000 \d+s 1\/m █+░+ 30% global$/);
    expect(modes()).toBe("1 0"); // alternate screen on, cursor hidden
    // NO_COLOR (set for every test) is respected on a terminal too: no color or attribute at all.
    expect(tmux("capture-pane", "-p", "-e", "-t", "dash")).not.toContain("\x1b[");

    press("c");
    const cut = await until("the row to show the cutoff", () => (rowOf("claude")?.includes("cut off") && rowOf("claude")?.includes("← cutoff: done") ? rowOf("claude") : undefined));
    expect(cut).toContain("cut off");
    // The run's own process carried it out: the action is in the ledger, the command is marked done by it,
    // and admission now refuses the run.
    const actions = await db.selectFrom("enforcement_actions").select(["kind", "trigger"]).where("run_id", "=", "tty-run").orderBy("id").execute();
    expect(actions).toEqual([{ kind: "cutoff", trigger: "user" }]);
    expect(await db.selectFrom("commands").select(["command", "result"]).where("run_id", "=", "tty-run").execute()).toEqual([{ command: "cutoff", result: "done" }]);
    expect(await admit(sqlEnforceStore(db), { runId: "tty-run", timeZone: "UTC", preflight: "off", budgets: {} }, { provider: "claude" })).toMatchObject({ allow: false, kind: "cutoff" });
    expect(screen()).toContain("  state   cut off (cutoff by user)");

    press("k");
    await until("the kill question", () => screen().includes("kill claude (run tty-run) now, without saving? y/N"));
    press("n");
    await until("the kill to be cancelled", () => screen().includes("kill of claude cancelled"));
    expect(pidAlive(run.bottlePid)).toBe(true);

    press("q");
    const after = await until("the shell to be back", () => (screen().includes("EXIT=0") ? screen() : undefined));
    expect(after).toContain("BEFORE-DASHBOARD");
    expect(after).not.toContain("bottle dashboard ·");
    expect(modes()).toBe("0 1"); // main screen, cursor shown
  });

  test("in color without NO_COLOR; SIGTERM ends it and gives the terminal back too", async () => {
    tmux("send-keys", "-t", "dash", "clear", "Enter");
    type(`env -u NO_COLOR ${bin} dashboard; echo EXIT=$?`);
    press("Enter");
    await until("the dashboard", () => rowOf("claude"));
    const colored = tmux("capture-pane", "-p", "-e", "-t", "dash");
    const row = colored.split("\n").find((l) => l.includes("cut off"))!;
    expect(row).toContain("\x1b[35mclaude"); // the run's own color on its label
    expect(row).toContain("\x1b[31mcut off"); // and its state in red
    const pid = await until("the dashboard's pid", dashboardPid);
    process.kill(pid, "SIGTERM");
    await until("the shell to be back", () => screen().includes("EXIT=143"));
    expect(screen()).not.toContain("bottle dashboard ·");
    expect(modes()).toBe("0 1");
  });

  test("an error while it runs gives the terminal back, then says what went wrong", async () => {
    tmux("send-keys", "-t", "dash", "clear", "Enter");
    type(`${bin} dashboard; echo EXIT=$?`);
    press("Enter");
    await until("the dashboard", () => rowOf("claude"));
    // The ledger loses a table under the running dashboard: its next read fails.
    await sql`alter table enforcement_actions rename to enforcement_actions_gone`.execute(db);
    try {
      const after = await until("the shell to be back", () => (/EXIT=[1-9]/.test(screen()) ? screen() : undefined));
      expect(after).toContain("enforcement_actions");
      expect(after).not.toContain("bottle dashboard ·");
      expect(modes()).toBe("0 1");
    } finally {
      await sql`alter table enforcement_actions_gone rename to enforcement_actions`.execute(db);
    }
  });
});
