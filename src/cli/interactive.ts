/**
 * Whether this session may ask questions: a person at a terminal (a TTY on stdin and stdout), not CI and
 * not a test runner, both of which may fake a TTY. Anything else takes the headless path, which never
 * prompts and so can never hang.
 */
function truthy(v: string | undefined): boolean {
  return v !== undefined && v !== "" && v !== "0" && v.toLowerCase() !== "false";
}

export function interactiveSession(env: Record<string, string | undefined> = process.env): boolean {
  if (!process.stdin.isTTY || !process.stdout.isTTY) return false;
  return !truthy(env.CI) && !truthy(env.BUN_TEST) && env.NODE_ENV !== "test";
}
