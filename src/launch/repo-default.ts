/**
 * Whether an agent only the repository defines may default to its `bottle:` (docs/manifests.md). It may name
 * a host bottle, but not one that reaches hosts beyond its provider's own API hosts, nor one that hands the
 * agent the host's env values: otherwise a cloned repository could widen its own egress, or be given the
 * host's `GH_TOKEN`, just by naming the host's bottle for other work. An env value is the host's when it is
 * written in the bottle, or when it starts with `?` and nobody is asked (headless: the host environment's
 * value is taken as it is); a `?` value the person is asked for (the wizard) they type or keep knowingly.
 * The user choosing that bottle (`--bottle`, or ticking it in the wizard) is an explicit choice and is not
 * checked. Pure.
 */
import { normalizeHost } from "../proxy/routes.ts";
import { providerRoutes, type Provider } from "../providers/index.ts";
import { isPrompt } from "../backends/env-prompts.ts";
import type { AgentManifest, ComposedBottle, Route } from "../manifest/types.ts";

/** What a repository-only agent's default bottle would give it beyond its provider's API. */
export interface RepositoryDefaultRisk {
  /** Hosts beyond the provider's API. */
  beyond: string[];
  /** Env variables whose value is written in a host bottle file. */
  env: string[];
  /** `?` variables whose value would be taken from the host environment without asking (headless). */
  unasked: string[];
}

/** The hosts the agent's default bottle reaches beyond its provider's API; empty when none, or not a repository-only agent. */
function repositoryDefaultBeyond(agent: AgentManifest, bottleRoutes: readonly Route[], provider: Provider): string[] {
  if (agent.source !== "cwd" || agent.shadows) return [];
  const own = new Set(providerRoutes(provider).map((r) => normalizeHost(r.host)));
  return [...new Set(bottleRoutes.map((r) => normalizeHost(r.host)).filter((h) => !own.has(h)))];
}

/**
 * Everything the repository-only agent's default bottle would give it that the repository may not choose;
 * undefined when nothing (or not a repository-only agent). `asked`: the person is asked for `?` values.
 */
export function repositoryDefaultRisk(agent: AgentManifest, composed: Pick<ComposedBottle, "routes" | "env">, provider: Provider, o: { asked: boolean }): RepositoryDefaultRisk | undefined {
  if (agent.source !== "cwd" || agent.shadows) return undefined;
  const beyond = repositoryDefaultBeyond(agent, composed.routes, provider);
  const names = Object.keys(composed.env);
  const env = names.filter((n) => !isPrompt(composed.env[n]!));
  const unasked = o.asked ? [] : names.filter((n) => isPrompt(composed.env[n]!));
  return beyond.length + env.length + unasked.length === 0 ? undefined : { beyond, env, unasked };
}

function setIn(names: readonly string[], origin: Readonly<Record<string, string>>): string {
  const files = [...new Set(names.map((n) => origin[n]).filter((f): f is string => !!f))];
  return `${names.join(", ")}${files.length > 0 ? ` (set in ${files.join(", ")})` : ""}`;
}

export function repositoryDefaultProblem(agent: AgentManifest, risk: RepositoryDefaultRisk, envOrigin: Readonly<Record<string, string>> = {}): string {
  const what: string[] = [];
  if (risk.beyond.length > 0) what.push(`reaches hosts beyond ${agent.provider}'s API (${risk.beyond.join(", ")})`);
  const env: string[] = [];
  if (risk.env.length > 0) env.push(setIn(risk.env, envOrigin));
  if (risk.unasked.length > 0) env.push(`${setIn(risk.unasked, envOrigin)}, taken from your environment unasked in a headless run`);
  if (env.length > 0) what.push(`hands it the host's env values ${env.join(", and ")}`);
  return `the repository's agent ${agent.name} names the default bottle ${agent.bottle}, which ${what.join(" and ")}`;
}

/** What the user can do instead; `chooseIt` is the invocation that names the bottle on the command line. */
export function repositoryDefaultFix(agent: AgentManifest, risk: RepositoryDefaultRisk, provider: Provider, chooseIt: string): string {
  const wanted: string[] = [];
  if (risk.beyond.length > 0) wanted.push(`reaches only ${agent.provider}'s API (${providerHosts(provider).join(", ")})`);
  if (risk.env.length + risk.unasked.length > 0) wanted.push("sets no env values");
  const onlyUnasked = risk.beyond.length === 0 && risk.env.length === 0 && risk.unasked.length > 0;
  const ask = onlyUnasked ? `; or run it without --headless to be asked for them (${risk.unasked.map((n) => `$${n}`).join(", ")})` : "";
  return `if you trust the repository, choose that bottle yourself: ${chooseIt}; or make its bottle: one that ${wanted.join(" and ")}${ask}`;
}

/** The provider's own API hosts, for the fix a refusal offers. */
function providerHosts(provider: Provider): string[] {
  return [...new Set(providerRoutes(provider).map((r) => normalizeHost(r.host)))];
}
