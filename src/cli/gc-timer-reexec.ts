/**
 * Why `bottle run`, `bottle resume` and `bottle proxy` start twice. These processes host a proxy and mostly
 * wait, and idle they should cost next to no CPU. Bun 1.4.4 runs a GC timer of its own on every JavaScript
 * thread: after any burst of work it requests a collection once a second for about 30 s, then every 30 s;
 * that timer is most of an idle proxy's CPU (docs/benchmarks.md, "Idle CPU of the proxy"). Bun turns it off
 * only when `BUN_GC_TIMER_DISABLE` is in the environment when its VM starts: setting it in process.env later
 * does nothing, `bun build --compile` cannot embed an environment, and no runtime flag, bunfig setting or
 * API governs the timer. So these commands, when the variable is not set, replace themselves once at start
 * (execve through `process.execve`: the same pid, process group, terminal, descriptors and signal state, so
 * Ctrl-C, SIGTERM and the exit code behave as if nothing happened) with the same argv and the variable set.
 * JavaScriptCore's own allocation-paced collections still run; only the extra idle ones stop.
 *
 * Short commands (`--version`, `budget show`, `--help`, `--dry-run`) do not re-execute: a second runtime start
 * is not worth it for a process that exits at once. `BOTTLE_NO_REEXEC=1`, or `BUN_GC_TIMER_DISABLE` already
 * set to anything (`=0` keeps the timer), leaves the process as it was started.
 *
 * The setting is for bottle's own runtime and no child's: Claude Code is itself a Bun program. Bottle environments
 * are built from scratch (src/backends/env.ts), and main() deletes the variable from process.env once the
 * runtime has read it, so every environment built from process.env (the docker client, git, the bridge's
 * child) lacks it. A spawn without an `env` option inherits the environment the process was started with,
 * not process.env, so bottle's spawns pass theirs explicitly.
 */

export const GC_TIMER_VAR = "BUN_GC_TIMER_DISABLE";
export const NO_REEXEC_VAR = "BOTTLE_NO_REEXEC";

/**
 * Commands whose process hosts a proxy and lives as long as it does, and the in-bottle bridge, which lives
 * as long as its bottle. A sandbox bottle's bridge is started with the variable set (bwrap --setenv), so it
 * restarts only in a docker container, whose configured environment every `docker exec` (the agent) would
 * inherit: there the restart is the one way to set it for the bridge alone.
 */
const HOSTS_PROXY = new Set(["run", "resume", "proxy", "__bridge"]);
/** Flags that make one of those commands print and exit. */
const SHORT_FLAGS = new Set(["--help", "-h", "--dry-run"]);

/** What the running process is, as far as starting it again goes. */
export interface SelfImage {
  /** The runtime (from source) or the compiled binary: process.execPath. */
  execPath: string;
  /** argv[0] as the process was started (what `ps` shows). */
  argv0: string;
  /** process.argv: [runtime, script, ...args] from source; [runtime, embedded entry, ...args] compiled. */
  argv: readonly string[];
  /** Runtime flags before the script (`bun --smol main.ts`); a compiled binary's are its own, never repeated. */
  execArgv: readonly string[];
  compiled: boolean;
}

export interface Reexec {
  file: string;
  argv: string[];
  env: Record<string, string>;
}

/** Whether the command line (global flags already removed) starts a long-lived proxy host. */
export function hostsProxy(args: readonly string[], env: Record<string, string | undefined>): boolean {
  if (!HOSTS_PROXY.has(args[0] ?? "")) return false;
  const flags = args.slice(1);
  const end = flags.indexOf("--");
  for (const a of end === -1 ? flags : flags.slice(0, end)) if (SHORT_FLAGS.has(a)) return false;
  return !env.BOTTLE_DRY_RUN;
}

/** The execve that restarts this process with Bun's GC timer off, or undefined when it should run as it is. */
export function gcTimerReexec(args: readonly string[], env: Record<string, string | undefined>, self: SelfImage): Reexec | undefined {
  if (env[GC_TIMER_VAR] !== undefined || env[NO_REEXEC_VAR]) return undefined;
  if (!hostsProxy(args, env)) return undefined;
  const next: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) next[k] = v;
  next[GC_TIMER_VAR] = "1";
  const argv0 = self.argv0 || self.execPath;
  const argv = self.compiled ? [argv0, ...self.argv.slice(2)] : [argv0, ...self.execArgv, ...self.argv.slice(1)];
  return { file: self.execPath, argv, env: next };
}

/** Deletes the runtime's GC-timer setting from an environment that children are built from. */
export function forgetGcTimerSetting(env: Record<string, string | undefined>): void {
  delete env[GC_TIMER_VAR];
}
