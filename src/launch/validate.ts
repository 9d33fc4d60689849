/**
 * The checks a LaunchRequest must pass before any file is read: an agent name, a prompt when headless, a
 * known color, a positive whole budget, a label that can be shown and typed. Each failure is a UsageError
 * whose fix is the invocation that works, because the person reading it (or the CI log) needs the command,
 * not a description of it.
 */
import { UsageError } from "../errors.ts";
import { SHUTDOWN_POLICIES } from "../manifest/types.ts";
import { ANSI_COLORS, type LaunchRequest } from "./types.ts";

/** The headless invocation, for error messages. */
export function invocation(agent = "AGENT", bottle?: string): string {
  return `bottle run ${agent} --headless --prompt "…"${bottle ? ` --bottle ${bottle}` : ""}`;
}

const LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export function checkRequest(req: LaunchRequest): void {
  if (!req.agent || req.agent.trim() === "") {
    throw new UsageError("bottle run needs an agent name", { key: "agent", fix: `${invocation("claude")} (see \`bottle run --help\`)` });
  }
  if (req.headless && (req.prompt === undefined || req.prompt.trim() === "")) {
    throw new UsageError("a headless run needs --prompt: nobody is there to type one", { key: "--prompt", fix: invocation(req.agent) });
  }
  if (req.stdin && !req.headless) {
    throw new UsageError("--stdin goes with --headless: an attached agent already has the terminal", { key: "--stdin", fix: `${invocation(req.agent)} --stdin` });
  }
  if (req.color !== undefined && !(ANSI_COLORS as readonly string[]).includes(req.color)) {
    throw new UsageError(`unknown color ${JSON.stringify(req.color)}`, { key: "--color", fix: `use one of: ${ANSI_COLORS.join(", ")}` });
  }
  if (req.budget !== undefined && (!Number.isSafeInteger(req.budget) || req.budget <= 0)) {
    throw new UsageError(`--budget ${req.budget} is not a positive whole number of tokens`, { key: "--budget", fix: "e.g. --budget 50000" });
  }
  if (req.shutdown !== undefined && !(SHUTDOWN_POLICIES as readonly string[]).includes(req.shutdown)) {
    throw new UsageError(`unknown shutdown policy ${JSON.stringify(req.shutdown)}`, { key: "--shutdown", fix: `use one of: ${SHUTDOWN_POLICIES.join(", ")}` });
  }
  if (req.workspace !== undefined && req.workspace !== "bind" && req.workspace !== "copy") {
    throw new UsageError(`unknown workspace mode ${JSON.stringify(req.workspace)}`, { key: "--workspace", fix: "use bind or copy" });
  }
  if (req.label !== undefined && !LABEL.test(req.label)) {
    throw new UsageError(`label ${JSON.stringify(req.label)} is not usable`, { key: "--label", fix: "use letters, digits, '.', '_' and '-' (up to 63), starting with a letter or digit" });
  }
}
