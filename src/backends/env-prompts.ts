/**
 * Env values that are asked for at launch. A bottle may write `TOKEN: "?Your GitHub token"`: in an
 * interactive launch the user is asked (the asking UI belongs to the CLI, passed in as `ask`); in a
 * headless launch nobody can answer, so the value must already be in the host environment under the
 * same name, or the launch fails with an error naming the variable and the bottle file.
 */
import { ManifestError } from "../errors.ts";

export interface EnvPromptContext {
  interactive: boolean;
  /** Where headless values come from; default process.env. */
  hostEnv?: Record<string, string | undefined>;
  /** Asks the user; gets the host value (if any) as a default. Required when interactive. */
  ask?: (name: string, message: string, initial?: string) => Promise<string>;
  /** Which bottle file set each variable, for error messages. */
  origin?: Record<string, string>;
}

export function isPrompt(value: string): boolean {
  return value.startsWith("?");
}

export function promptMessage(name: string, value: string): string {
  const m = value.slice(1).trim();
  return m === "" ? name : m;
}

/** Variables whose value is still a prompt, in order. */
export function pendingPrompts(env: Record<string, string>): string[] {
  return Object.keys(env).filter((k) => isPrompt(env[k]!));
}

export async function resolveEnvPrompts(env: Record<string, string>, ctx: EnvPromptContext): Promise<Record<string, string>> {
  const host = ctx.hostEnv ?? process.env;
  const out: Record<string, string> = { ...env };
  for (const name of pendingPrompts(env)) {
    const message = promptMessage(name, env[name]!);
    const file = ctx.origin?.[name];
    const hostValue = host[name];
    if (ctx.interactive) {
      if (!ctx.ask) throw new ManifestError(`env.${name} must be asked for, but no prompt is available`, { ...(file ? { file } : {}), key: `env.${name}` });
      out[name] = await ctx.ask(name, message, hostValue);
      continue;
    }
    if (hostValue === undefined || hostValue === "") {
      throw new ManifestError(`env.${name} asks for a value at launch ("${message}"), but this run is headless and $${name} is not set on the host`, {
        ...(file ? { file } : {}),
        key: `env.${name}`,
        fix: `export ${name}=… before a headless run, or run interactively to be asked`,
      });
    }
    out[name] = hostValue;
  }
  return out;
}
