/**
 * Whether an agent only the repository defines may default to its `bottle:` (docs/manifests.md). It may name
 * a host bottle, but not one that reaches hosts beyond its provider's own API hosts: otherwise a repository
 * could widen its own egress by naming the host's most permissive bottle. The user choosing that bottle
 * (`--bottle`, or ticking it in the wizard) is an explicit choice and is not checked. Pure.
 */
import { normalizeHost } from "../proxy/routes.ts";
import { providerRoutes, type Provider } from "../providers/index.ts";
import type { AgentManifest, Route } from "../manifest/types.ts";

/** The hosts the agent's default bottle reaches beyond its provider's API; empty when none, or not a repository-only agent. */
export function repositoryDefaultBeyond(agent: AgentManifest, bottleRoutes: readonly Route[], provider: Provider): string[] {
  if (agent.source !== "cwd" || agent.shadows) return [];
  const own = new Set(providerRoutes(provider).map((r) => normalizeHost(r.host)));
  return [...new Set(bottleRoutes.map((r) => normalizeHost(r.host)).filter((h) => !own.has(h)))];
}

export function repositoryDefaultProblem(agent: AgentManifest, beyond: readonly string[]): string {
  return `the repository's agent ${agent.name} names the default bottle ${agent.bottle}, which reaches hosts beyond ${agent.provider}'s API (${beyond.join(", ")})`;
}

/** The provider's own API hosts, for the fix a refusal offers. */
export function providerHosts(provider: Provider): string[] {
  return [...new Set(providerRoutes(provider).map((r) => normalizeHost(r.host)))];
}
