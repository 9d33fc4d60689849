/**
 * Finding every agent and bottle (DESIGN §2–3). Agents come from the embedded defaults, then
 * `$BOTTLE_HOME/agents`, then `./.bottle/agents`. The user's file replaces a built-in one of the same name; a
 * repository's file with a host agent's name can only add a budget to it (`shadows`; everything else stays
 * the host's, see repo-agent.ts), and its own budget only ever applies in addition (docs/budgets.md). Bottles come from the
 * embedded defaults and `$BOTTLE_HOME/bottles` only: a bottle decides
 * what a sandbox may reach, and a repository must not be able to loosen its own sandbox, so bottle files
 * under `./.bottle/bottles` are ignored with a warning that says so. Every file is validated. An invalid
 * bottle throws its ManifestError (bottles are the host's own files). An invalid agent file (broken YAML, a
 * bad name, a dangling symlink, a file over the size or alias limit) is only a warning naming it: the
 * agent is listed in `broken`, and only a command that needs that agent fails (with the file's own
 * error), so a repository's ./.bottle/agents can never block `bottle dashboard`, budgets or other agents.
 */
import { existsSync, readdirSync, realpathSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ManifestError } from "../errors.ts";
import { bottleHome, homePaths } from "../paths.ts";
import { parseAgent } from "./agent.ts";
import { parseBottle } from "./bottle.ts";
import { EMBEDDED_AGENTS, EMBEDDED_BOTTLES } from "./embedded.ts";
import { nameFromFile, type ManifestText } from "./manifest-file.ts";
import { repositoryOnlyAgent, shadowHostAgent } from "./repo-agent.ts";
import { isValidName } from "./names.ts";
import { readYamlFile } from "./yaml-limits.ts";
import type { AgentManifest, BottleManifest } from "./types.ts";

export interface Catalog {
  agents: Map<string, AgentManifest>;
  bottles: Map<string, BottleManifest>;
  /** Agent files that could not be loaded, by the name their file gives, with the reason. */
  broken: Map<string, ManifestError>;
  warnings: string[];
}

/** The agent of that name, or the error of its broken file; undefined when there is neither. */
export function agentOrBroken(c: Catalog, name: string): AgentManifest | undefined {
  const a = c.agents.get(name);
  if (a) return a;
  const broken = c.broken.get(name);
  if (broken) throw broken;
  return undefined;
}

export interface CatalogOptions {
  home?: string;
  cwd?: string;
}

/** The `*.md` files of a directory, sorted; none when it does not exist. Dotfiles are editor litter. */
export function manifestFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (e) {
    throw new ManifestError(`cannot read the directory: ${(e as Error).message}`, { file: dir, fix: "make it readable, or remove it" });
  }
  // A dangling symlink is kept (reading it then fails with an error naming it); a directory is skipped.
  return entries
    .filter((n) => n.endsWith(".md") && !n.startsWith("."))
    .sort()
    .map((n) => join(dir, n))
    .filter((f) => {
      try {
        return !statSync(f).isDirectory();
      } catch {
        return true;
      }
    });
}

function read(file: string): ManifestText {
  return { file, text: readYamlFile(file, ManifestError) };
}

function sameDir(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return resolve(a) === resolve(b);
  }
}

export function loadCatalog(opts: CatalogOptions = {}): Catalog {
  const home = homePaths(opts.home ?? bottleHome());
  const cwd = resolve(opts.cwd ?? process.cwd());
  const warnings: string[] = [];
  const agents = new Map<string, AgentManifest>();
  const broken = new Map<string, ManifestError>();
  const bottles = new Map<string, BottleManifest>();

  for (const a of EMBEDDED_AGENTS.map((m) => parseAgent(m, "embedded"))) agents.set(a.name, a);
  for (const b of EMBEDDED_BOTTLES.map((m) => parseBottle(m, "embedded"))) bottles.set(b.name, b);
  const addAll = <T extends { name: string }>(into: Map<string, T>, dir: string, parse: (m: ManifestText) => T) => {
    for (const f of manifestFiles(dir)) {
      const m = parse(read(f));
      into.set(m.name, m);
    }
  };
  /** Agents: a file that fails to load is a warning; a later good file of the same name still wins. */
  const addAgents = (dir: string, source: "home" | "cwd") => {
    for (const f of manifestFiles(dir)) {
      const name = nameFromFile(f);
      try {
        const a = parseAgent(read(f), source);
        if (source === "cwd") {
          // A repository's file may only make a host agent stricter, and never picks a shutdown policy.
          const host = agents.get(a.name);
          const r = host ? shadowHostAgent(host, a) : repositoryOnlyAgent(a);
          agents.set(a.name, r.agent);
          warnings.push(...r.warnings);
        } else agents.set(a.name, a);
        broken.delete(a.name);
      } catch (e) {
        if (!(e instanceof ManifestError)) throw e;
        agents.delete(name);
        broken.set(name, e);
        const at = e.context.line ? `${f}:${e.context.line}` : f;
        const fix = e.context.fix ? ` — ${e.context.fix}` : "";
        warnings.push(`skipped the agent file ${at}: ${e.message}${fix}. Other agents work; ${isValidName(name) ? `the agent ${name}` : "this file"} fails until it is fixed or removed`);
      }
    }
  };
  addAgents(home.agents, "home");
  const localAgents = join(cwd, ".bottle", "agents");
  if (!sameDir(localAgents, home.agents)) addAgents(localAgents, "cwd");
  addAll(bottles, home.bottles, (m) => parseBottle(m, "home"));
  const localBottles = join(cwd, ".bottle", "bottles");
  if (!sameDir(localBottles, home.bottles)) {
    for (const f of manifestFiles(localBottles)) {
      warnings.push(`ignored ${f}: bottles are read only from ${home.bottles}, because a repository must not loosen its own sandbox; move the file there if you trust it`);
    }
  }
  for (const a of agents.values()) {
    if (a.bottle && !bottles.has(a.bottle)) {
      warnings.push(`agent ${a.name} (${a.file}) names the default bottle ${a.bottle}, which is not defined; create ${join(home.bottles, `${a.bottle}.md`)} or pass --bottle`);
    }
  }
  return { agents, bottles, broken, warnings };
}
