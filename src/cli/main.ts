#!/usr/bin/env bun
/**
 * Entry point of the `bottle` executable. It strips global flags (--debug, --version), installs consola as
 * the log sink, dispatches to the command tree, and funnels every thrown error through formatError so that
 * a user sees one sentence and a stable exit code.
 */
import { createConsola } from "consola";
import { colors } from "consola/utils";
import { setLogger } from "../log.ts";
import { isCompiled } from "../backends/self.ts";
import { versionLine } from "../version.ts";
import { dispatch } from "./dispatch.ts";
import { formatError } from "./format-error.ts";
import { forgetGcTimerSetting, gcTimerReexec } from "./gc-timer-reexec.ts";
import { rootCommand } from "./root.ts";

export async function main(argv: string[]): Promise<number> {
  // Hidden internal command: the in-bottle bridge (src/backends/bridge.ts). Handled before anything else so
  // that it works inside a bottle with no config and no logging setup.
  if (argv[0] === "__bridge") return (await import("../backends/bridge.ts")).bridgeMain(argv.slice(1));
  const debug = argv.includes("--debug") || !!process.env.BOTTLE_DEBUG;
  const args = argv.filter((a) => a !== "--debug");
  if (debug) process.env.BOTTLE_DEBUG = "1";
  const useColor = !process.env.NO_COLOR && !!process.stderr.isTTY;
  const consola = createConsola({
    level: debug ? 4 : 3,
    stdout: process.stderr,
    stderr: process.stderr,
    formatOptions: { colors: useColor, date: false },
  });
  setLogger({
    debug: (m) => consola.debug(m),
    info: (m) => consola.info(m),
    // One line per warning, like info: the default badge style adds blank lines around each warning.
    warn: (m) => consola.log(`${useColor ? colors.yellow("⚠") : "⚠"} ${m}`),
    error: (m) => consola.error(m),
  });
  if (args[0] === "--version" || args[0] === "-v") {
    process.stdout.write(`${versionLine()}\n`);
    return 0;
  }
  try {
    const result = await dispatch(rootCommand, args);
    return typeof result === "number" ? result : 0;
  } catch (e) {
    const { text, exitCode } = formatError(e, debug);
    process.stderr.write(`${text}\n`);
    return exitCode;
  }
}

/**
 * A proxy host starts again at once with Bun's GC timer off (gc-timer-reexec.ts says why). If the execve
 * fails, the process carries on as it is: the timer costs idle CPU, never correctness.
 */
function restartWithGcTimerOff(argv: string[]): void {
  const self = { execPath: process.execPath, argv0: process.argv0, argv: process.argv, execArgv: process.execArgv, compiled: isCompiled() };
  const next = gcTimerReexec(argv.filter((a) => a !== "--debug"), process.env, self);
  if (!next || typeof process.execve !== "function") return;
  try {
    process.execve(next.file, next.argv, next.env);
  } catch (e) {
    if (argv.includes("--debug") || process.env.BOTTLE_DEBUG) process.stderr.write(`could not restart with Bun's GC timer off (${(e as Error).message}); running with it on\n`);
  }
}

if (import.meta.main) {
  restartWithGcTimerOff(process.argv.slice(2));
  forgetGcTimerSetting(process.env);
  const code = await main(process.argv.slice(2));
  process.exit(code);
}
