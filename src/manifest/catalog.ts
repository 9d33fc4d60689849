/**
 * Finding every agent and bottle (DESIGN §2–3). Agents come from the embedded defaults, then
 * `$BOTTLE_HOME/agents`, then `./.bottle/agents` — a later source replaces an earlier one of the same name,
 * so cwd wins. Bottles come from the embedded defaults and `$BOTTLE_HOME/bottles` only: a bottle decides
 * what a sandbox may reach, and a repository must not be able to loosen its own sandbox, so bottle files
 * under `./.bottle/bottles` are ignored with a warning that says so. Every file is validated; the first
 * invalid one throws its ManifestError.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ManifestError } from "../errors.ts";
import { bottleHome, homePaths } from "../paths.ts";
import { parseAgent } from "./agent.ts";
import { parseBottle } from "./bottle.ts";
import { EMBEDDED_AGENTS, EMBEDDED_BOTTLES } from "./embedded.ts";
import type { ManifestText } from "./manifest-file.ts";
import type { AgentManifest, BottleManifest } from "./types.ts";

export interface Catalog {
  agents: Map<string, AgentManifest>;
  bottles: Map<string, BottleManifest>;
  warnings: string[];
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
  return entries
    .filter((n) => n.endsWith(".md") && !n.startsWith("."))
    .sort()
    .map((n) => join(dir, n))
    .filter((f) => statSync(f).isFile());
}

function read(file: string): ManifestText {
  try {
    return { file, text: readFileSync(file, "utf8") };
  } catch (e) {
    throw new ManifestError(`cannot read the file: ${(e as Error).message}`, { file, fix: "make it readable, or remove it" });
  }
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
  const bottles = new Map<string, BottleManifest>();

  for (const a of EMBEDDED_AGENTS.map((m) => parseAgent(m, "embedded"))) agents.set(a.name, a);
  for (const b of EMBEDDED_BOTTLES.map((m) => parseBottle(m, "embedded"))) bottles.set(b.name, b);
  const addAll = <T extends { name: string }>(into: Map<string, T>, dir: string, parse: (m: ManifestText) => T) => {
    for (const f of manifestFiles(dir)) {
      const m = parse(read(f));
      into.set(m.name, m);
    }
  };
  addAll(agents, home.agents, (m) => parseAgent(m, "home"));
  const localAgents = join(cwd, ".bottle", "agents");
  if (!sameDir(localAgents, home.agents)) addAll(agents, localAgents, (m) => parseAgent(m, "cwd"));
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
  return { agents, bottles, warnings };
}
