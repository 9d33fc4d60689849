/**
 * A bottle's `env:`: variables set inside the bottle. Names must be real environment variable names and
 * values must be strings — YAML turns `PORT: 8080` into a number and `DEBUG: yes` into a string while
 * `DEBUG: true` is a boolean, so anything but a string is rejected with the quoted form as the fix. A value
 * starting with `?` is a question asked at launch (`TOKEN: "?Your GitHub token"`, see backends/env-prompts).
 */
import { describe, keyName, type Checker } from "./check.ts";

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function checkEnv(c: Checker, v: unknown): Record<string, string> {
  if (v === null || v === undefined) return {};
  if (typeof v !== "object" || Array.isArray(v)) c.fail(["env"], `env must be a mapping of NAME: "value", not ${describe(v)}`, 'write env: then indented lines such as  LOG_LEVEL: "debug"');
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(v as Record<string, unknown>)) {
    const path = ["env", name];
    if (!ENV_NAME.test(name)) c.fail(path, `${keyName(path)} is not a valid environment variable name`, "use letters, digits and _, not starting with a digit (e.g. GITHUB_TOKEN)", "key");
    if (typeof value !== "string") {
      const shown = value === null ? "" : String(value);
      c.fail(path, `${keyName(path)} must be a string, not ${describe(value)}`, `quote the value: ${name}: "${shown}" (a value starting with ? is asked for at launch)`);
    }
    out[name] = value;
  }
  return out;
}
