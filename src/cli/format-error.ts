/**
 * The single top-level error formatter. Known errors become one sentence that names the file, line, key and
 * fix; unknown errors say they are a bug. Only --debug prints a stack.
 */
import { isBottleError } from "../errors.ts";

export function formatError(e: unknown, debug = false): { text: string; exitCode: number } {
  if (isBottleError(e)) {
    const { file, line, key, fix } = e.context;
    const where = file ? `${file}${line ? `:${line}` : ""}: ` : "";
    const keyPart = key && !e.message.includes(key) ? ` (${key})` : "";
    const fixPart = fix ? ` — ${fix}` : "";
    let text = `error: ${where}${e.message}${keyPart}${fixPart}`;
    if (debug && e.stack) text += `\n${e.stack}`;
    return { text, exitCode: e.exitCode };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  let text = `error: ${err.message} (unexpected; rerun with --debug for details and report it)`;
  if (debug && err.stack) text += `\n${err.stack}`;
  return { text, exitCode: 1 };
}
