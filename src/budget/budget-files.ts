/**
 * Where `bottle budget set/unset` write. A global budget lives in $BOTTLE_HOME/settings.yml; an agent's in
 * its manifest (./.bottle/agents wins over $BOTTLE_HOME/agents, as when agents are loaded); a bottle's, or a
 * parent's (a parent is a bottle), in $BOTTLE_HOME/bottles — bottles under cwd are never read, so never
 * written. A run's budget is not in any file: it is `--budget` on launch.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { BudgetError, NotFoundError, UsageError } from "../errors.ts";
import { isValidName } from "../manifest/names.ts";
import { readYamlFile } from "../manifest/yaml-limits.ts";
import { PROVIDERS, WINDOWS, type BudgetWindow, type ProviderName } from "../manifest/types.ts";
import { EMBEDDED_AGENTS, EMBEDDED_BOTTLES } from "../manifest/embedded.ts";
import { homePaths } from "../paths.ts";
import { didYouMean } from "../util/did-you-mean.ts";
import { editFrontmatter, setBudgetInYaml, unsetBudgetInYaml, type LimitEdit } from "./edit-yaml.ts";

export const EDITABLE_SCOPES = ["global", "agent", "bottle", "parent"] as const;
export type EditableScope = (typeof EDITABLE_SCOPES)[number];

export interface BudgetTarget {
  scope: EditableScope;
  name?: string;
  provider: ProviderName;
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], key: string, fix: string): T {
  if (value !== undefined && (allowed as readonly string[]).includes(value)) return value as T;
  const guess = value ? didYouMean(value, [...allowed]) : undefined;
  throw new UsageError(`${key} must be one of ${allowed.join(", ")}${value ? `, not "${value}"` : ""}`, {
    key,
    fix: guess ? `did you mean ${guess}? ${fix}` : fix,
  });
}

/** Reads `<scope> [name] <provider> [tokens]` from positionals. */
export function parseTarget(positionals: readonly string[], withTokens: boolean): { target: BudgetTarget; tokens?: number } {
  const usage = withTokens ? "bottle budget set <global|agent NAME|bottle NAME> <provider> <tokens>" : "bottle budget unset <global|agent NAME|bottle NAME> <provider>";
  const [rawScope, ...rest] = positionals;
  if (rawScope === "run") throw new UsageError("a run budget is not stored in a file", { key: "scope", fix: "pass --budget N to `bottle run` instead." });
  const scope = oneOf(rawScope, EDITABLE_SCOPES, "scope", `usage: ${usage}`);
  let name: string | undefined;
  if (scope !== "global") {
    name = rest.shift();
    if (!name || !isValidName(name)) throw new UsageError(`${scope} name ${name ? `"${name}" is not kebab-case` : "is missing"}`, { key: "name", fix: `usage: ${usage}` });
  }
  const provider = oneOf(rest.shift(), PROVIDERS, "provider", `usage: ${usage}`);
  const target: BudgetTarget = { scope, provider, ...(name ? { name } : {}) };
  if (!withTokens) {
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`, { fix: `usage: ${usage}` });
    return { target };
  }
  const raw = rest.shift();
  const tokens = raw !== undefined && /^\d[\d_]*$/.test(raw) ? Number(raw.replaceAll("_", "")) : Number.NaN;
  if (!Number.isSafeInteger(tokens) || tokens <= 0) throw new UsageError(`tokens must be a positive whole number${raw ? `, not "${raw}"` : ""}`, { key: "tokens", fix: `usage: ${usage}` });
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`, { fix: `usage: ${usage}` });
  return { target, tokens };
}

export const RESET_SCOPES = ["global", "agent", "bottle", "parent", "run"] as const;

export interface ResetTarget {
  scope: (typeof RESET_SCOPES)[number];
  /** Agent or bottle name, or run id. */
  name?: string;
  /** Only this provider's count; all providers when absent. */
  provider?: ProviderName;
}

/** Reads `<global|agent NAME|bottle NAME|parent NAME|run ID> [provider]` for `bottle budget reset`. */
export function parseResetTarget(positionals: readonly string[]): ResetTarget {
  const usage = "usage: bottle budget reset <global|agent NAME|bottle NAME|run ID> [provider]";
  const [rawScope, ...rest] = positionals;
  const scope = oneOf(rawScope, RESET_SCOPES, "scope", usage);
  const target: ResetTarget = { scope };
  if (scope !== "global") {
    const name = rest.shift();
    const valid = name !== undefined && (scope === "run" ? /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) : isValidName(name));
    if (!valid) throw new UsageError(`${scope} ${scope === "run" ? "id" : "name"} ${name ? `"${name}" is not valid` : "is missing"}`, { key: "name", fix: usage });
    target.name = name;
  }
  if (rest.length > 0) target.provider = oneOf(rest.shift(), PROVIDERS, "provider", usage);
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`, { fix: usage });
  return target;
}

/** `--per day|week|month|none` → the edit's window (undefined keeps the current one). */
export function parsePer(per: string | undefined): BudgetWindow | null | undefined {
  if (per === undefined || per === "") return undefined;
  if (per === "none") return null;
  return oneOf(per, WINDOWS, "--per", "use day, week or month (or none to remove the window).");
}

/** The text of a built-in agent or bottle, if `name` is one (see src/manifest/embedded.ts). */
function embeddedText(kind: "agents" | "bottles", name: string | undefined): string | undefined {
  const list = kind === "agents" ? EMBEDDED_AGENTS : EMBEDDED_BOTTLES;
  const text = list.find((m) => m.file === `embedded:${kind}/${name}.md`)?.text;
  // The built-in's "copy this file to … to change it" is done by now: say what the copy is instead.
  return text?.replace(/Copy this file to \S+ to change\s+it\./, "This copy (made by `bottle budget set`) replaces the built-in one.");
}

export interface BudgetFile {
  file: string;
  /** The file does not exist yet: it starts as a copy of this built-in manifest. */
  seed?: string;
}

export function budgetFile(t: Pick<BudgetTarget, "scope" | "name">, cwd = process.cwd(), home = homePaths()): BudgetFile {
  if (t.scope === "global") return { file: home.settings };
  if (t.scope === "agent") {
    // The host's file first: a repository's agent budget only ever applies in addition to the host's, so
    // a limit set here must land where it governs. A repository-only agent keeps its budget in its own file.
    const file = join(home.agents, `${t.name}.md`);
    if (existsSync(file)) return { file };
    const seed = embeddedText("agents", t.name);
    if (seed !== undefined) return { file, seed };
    const local = join(cwd, ".bottle", "agents", `${t.name}.md`);
    if (existsSync(local)) return { file: local };
    throw new NotFoundError(`agent "${t.name}" not found`, { file, fix: "check `bottle agents` for the names." });
  }
  const file = join(home.bottles, `${t.name}.md`);
  if (existsSync(file)) return { file };
  const seed = embeddedText("bottles", t.name);
  if (seed !== undefined) return { file, seed };
  throw new NotFoundError(`bottle "${t.name}" not found`, { file, fix: "check `bottle bottles` for the names." });
}

function rewrite(file: string, transform: (text: string) => string, seed = ""): { before: string; after: string } {
  const before = existsSync(file) ? readYamlFile(file, BudgetError) : seed;
  const after = transform(before);
  if (after !== before) {
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.bottle-tmp`;
    writeFileSync(tmp, after);
    renameSync(tmp, file);
  }
  return { before, after };
}

/**
 * Sets one budget. For a built-in agent or bottle with no file of its own, the file is created as a copy
 * of the built-in manifest plus the budget (`copiedBuiltIn`), and from then on it replaces the built-in one.
 */
export function setBudget(t: BudgetTarget, edit: LimitEdit, cwd?: string, home?: ReturnType<typeof homePaths>): { file: string; changed: boolean; copiedBuiltIn: boolean } {
  const { file, seed } = budgetFile(t, cwd, home);
  const apply = (yaml: string) => setBudgetInYaml(yaml, t.provider, edit, file);
  const r = rewrite(file, (text) => (t.scope === "global" ? apply(text) : editFrontmatter(text, apply)), seed);
  return { file, changed: r.before !== r.after || seed !== undefined, copiedBuiltIn: seed !== undefined };
}

export function unsetBudget(t: BudgetTarget, cwd?: string, home?: ReturnType<typeof homePaths>): { file: string; removed: boolean } {
  const { file } = budgetFile(t, cwd, home);
  if (!existsSync(file)) return { file, removed: false };
  let removed = false;
  const apply = (yaml: string) => {
    const r = unsetBudgetInYaml(yaml, t.provider, file);
    removed = r.removed;
    return r.text;
  };
  rewrite(file, (text) => {
    const after = t.scope === "global" ? apply(text) : editFrontmatter(text, apply);
    return removed ? after : text;
  });
  return { file, removed };
}
