/**
 * What an agent file under `./.bottle/agents` may decide (DESIGN §6a.2). A repository is not trusted: it may
 * be a clone of someone else's, or an agent may have committed to it. So a repository's file that has the
 * name of a host agent (`$BOTTLE_HOME/agents` or a built-in one) can only make that agent stricter: its budget
 * applies in addition (docs/budgets.md); its bottle, model, skills, shutdown and prompt stay the host agent's,
 * and a file with another provider is ignored whole. An agent only the repository defines keeps its own
 * settings, except `shutdown:`, which is the host's call (settings.yml, the bottle, `--shutdown`). Every
 * setting that is dropped becomes a warning naming the file, the field and the fix, never silence. Pure.
 */
import type { AgentManifest } from "./types.ts";

export interface RepoAgentOutcome {
  /** The agent as it runs: the repository's file wherever it may decide, the host's everywhere else. */
  agent: AgentManifest;
  warnings: string[];
}

function hostName(host: AgentManifest): string {
  return host.source === "embedded" ? `the built-in agent ${host.name}` : `the host agent ${host.name} (${host.file})`;
}

const list = (xs: readonly string[]) => `[${xs.join(", ")}]`;

/** A repository's file `repo` with the name of the host's agent `host`. */
export function shadowHostAgent(host: AgentManifest, repo: AgentManifest): RepoAgentOutcome {
  const who = hostName(host);
  const rename = `name the repository's agent differently (e.g. ${repo.name}-repo) to use it`;
  if (repo.provider !== host.provider) {
    return {
      agent: host,
      warnings: [`ignored ${repo.file}: it has the name of ${who} but provider ${repo.provider}, not ${host.provider}; a repository's file may only add a budget to a host agent, so the agent runs as the host defines it; ${rename}`],
    };
  }
  const warnings: string[] = [];
  const ignored = (field: string, value: string, hostValue: string, fix: string) => warnings.push(`ignored ${field}: ${value} in ${repo.file}: it has the name of ${who}, whose ${field} (${hostValue}) is host policy; ${fix}`);
  if (repo.bottle !== undefined && repo.bottle !== host.bottle) {
    ignored("bottle", repo.bottle, host.bottle ?? "none", `pass --bottle ${repo.bottle} to use it for one run, or ${rename.replace(" to use it", "")}`);
  }
  if (repo.model !== undefined && repo.model !== host.model) ignored("model", repo.model, host.model ?? "the CLI's default", rename);
  if (repo.shutdown !== undefined && repo.shutdown !== host.shutdown) {
    ignored("shutdown", repo.shutdown, host.shutdown ?? "from its bottle or settings.yml", `pass --shutdown ${repo.shutdown} for one run, or set it in ${host.source === "home" ? host.file : "settings.yml"}`);
  }
  if (repo.skills.length > 0 && list(repo.skills) !== list(host.skills)) ignored("skills", list(repo.skills), list(host.skills), rename);
  if (repo.prompt !== "" && repo.prompt !== host.prompt) warnings.push(`ignored the prompt in ${repo.file}: it has the name of ${who}, whose prompt is host policy; ${rename}`);
  const { budget: hostBudget, ...hostSettings } = host;
  return {
    agent: {
      ...hostSettings,
      file: repo.file,
      source: "cwd",
      ...(repo.budget ? { budget: repo.budget } : {}),
      shadows: { file: host.file, ...(hostBudget ? { budget: hostBudget } : {}) },
    },
    warnings,
  };
}

/** A repository's file for an agent the host does not define. */
export function repositoryOnlyAgent(repo: AgentManifest): RepoAgentOutcome {
  if (repo.shutdown === undefined) return { agent: repo, warnings: [] };
  const { shutdown, ...rest } = repo;
  return {
    agent: rest,
    warnings: [`ignored shutdown: ${shutdown} in ${repo.file}: a repository's agent file does not choose what a crossed budget does; pass --shutdown ${shutdown} for one run, or set it in settings.yml`],
  };
}
