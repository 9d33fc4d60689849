/**
 * Command dispatch on top of citty's command definitions. citty resolves sub-commands but silently accepts
 * unknown flags; a CLI that ignores `--budgte 10` is dangerous for a tool that enforces budgets, so this walks
 * the command tree itself, rejects unknown commands and flags with a did-you-mean suggestion (exit 2), and
 * then hands the leaf to citty's runCommand.
 */
import { renderUsage, runCommand, type ArgsDef, type CommandDef } from "citty";
import { UsageError } from "../errors.ts";
import { didYouMean } from "../util/did-you-mean.ts";

type AnyCommand = CommandDef<any>;

async function resolve<T>(v: T | (() => T | Promise<T>) | Promise<T> | undefined): Promise<T | undefined> {
  return typeof v === "function" ? await (v as () => T | Promise<T>)() : await v;
}

function flagNames(args: ArgsDef): { names: Set<string>; booleans: Set<string> } {
  const names = new Set<string>(["help", "h"]);
  const booleans = new Set<string>(["help", "h"]);
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    const alias = (def as { alias?: string | string[] }).alias;
    const all = [name, ...(Array.isArray(alias) ? alias : alias ? [alias] : [])];
    for (const n of all) {
      names.add(n);
      if (def.type === "boolean") {
        booleans.add(n);
        names.add(`no-${n}`);
        booleans.add(`no-${n}`);
      }
    }
  }
  return { names, booleans };
}

/** Throws UsageError for the first flag the command does not declare. */
export function checkFlags(commandPath: string, args: ArgsDef, rawArgs: readonly string[]): void {
  const { names, booleans } = flagNames(args);
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i]!;
    if (a === "--") break;
    if (!a.startsWith("-") || a === "-") continue;
    const body = a.replace(/^--?/, "");
    const name = body.split("=")[0]!;
    const shortCluster = !a.startsWith("--") && name.length > 1;
    if (shortCluster) {
      for (const ch of name) if (!names.has(ch)) throw unknownFlag(commandPath, `-${ch}`, [...names]);
      continue;
    }
    if (!names.has(name)) throw unknownFlag(commandPath, a.split("=")[0]!, [...names]);
    if (!booleans.has(name) && !body.includes("=")) i++; // skip the flag's value
  }
}

function unknownFlag(commandPath: string, flag: string, known: string[]): UsageError {
  const bare = flag.replace(/^--?/, "");
  const guess = didYouMean(bare, known.filter((k) => k.length > 1));
  return new UsageError(`unknown flag ${flag} for \`${commandPath}\``, {
    key: flag,
    fix: guess ? `did you mean --${guess}? See \`${commandPath} --help\`.` : `see \`${commandPath} --help\`.`,
  });
}

/** Walks sub-commands, validates flags and runs the leaf. Returns the leaf's result. */
export async function dispatch(root: AnyCommand, rawArgs: string[], path = "bottle"): Promise<unknown> {
  const subs = await resolve(root.subCommands);
  const args = (await resolve(root.args)) ?? {};
  if (subs && Object.keys(subs).length > 0) {
    const idx = rawArgs.findIndex((a) => !a.startsWith("-"));
    const name = idx >= 0 ? rawArgs[idx] : undefined;
    if (name !== undefined) {
      const sub = (subs as Record<string, AnyCommand | (() => Promise<AnyCommand>)>)[name];
      // A command with its own run and a positional argument takes a word that is not one of its
      // sub-commands as that argument (`report <run>` beside `report verify`).
      if (!sub && root.run && Object.values(args).some((a) => (a as { type?: string }).type === "positional")) {
        checkFlags(path, args, rawArgs);
        return (await runCommand({ ...root, subCommands: undefined }, { rawArgs })).result;
      }
      if (!sub) {
        const guess = didYouMean(name, Object.keys(subs));
        throw new UsageError(`unknown command \`${path} ${name}\``, {
          key: name,
          fix: guess ? `did you mean \`${path} ${guess}\`? Run \`${path} --help\` for the list.` : `run \`${path} --help\` for the list.`,
        });
      }
      checkFlags(path, args, rawArgs.slice(0, idx));
      const resolved = (await resolve(sub)) as AnyCommand;
      return dispatch(resolved, rawArgs.slice(idx + 1), `${path} ${name}`);
    }
    if (!root.run) {
      if (rawArgs.includes("--help") || rawArgs.includes("-h") || rawArgs.length === 0) {
        await printUsage(root, path);
        return undefined;
      }
      checkFlags(path, args, rawArgs);
      throw new UsageError(`\`${path}\` needs a sub-command`, { fix: `run \`${path} --help\` for the list.` });
    }
  }
  if (rawArgs.includes("--help") || rawArgs.includes("-h")) {
    await printUsage(root, path);
    return undefined;
  }
  checkFlags(path, args, rawArgs);
  const { result } = await runCommand(root, { rawArgs });
  return result;
}

/** Help goes to stdout, in color only on a terminal that did not ask for NO_COLOR (pipes and files get plain text). */
async function printUsage(cmd: AnyCommand, path: string): Promise<void> {
  // The parent's name makes the USAGE line the full invocation (`bottle budget set`, not `set`).
  const parentPath = path.split(" ").slice(0, -1).join(" ");
  const parent = parentPath ? ({ meta: { name: parentPath } } as CommandDef<ArgsDef>) : undefined;
  const text = await renderUsage(cmd as CommandDef<ArgsDef>, parent);
  const plain = !process.stdout.isTTY || (process.env.NO_COLOR ?? "") !== "";
  process.stdout.write(`${plain ? text.replace(/\x1b\[[0-9;]*m/g, "") : text}\n`);
}
