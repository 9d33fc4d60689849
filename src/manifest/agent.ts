/**
 * Agents (DESIGN §2): `agents/<name>.md` whose frontmatter says which CLI runs it (`provider`), its default
 * bottle, model, skills, budget and shutdown policy, and whose markdown body is the agent's prompt.
 */
import { checkBudget } from "./budget-spec.ts";
import { parseManifest, type ManifestText } from "./manifest-file.ts";
import { PROVIDERS, SHUTDOWN_POLICIES, type AgentManifest, type SourceRef } from "./types.ts";

export const AGENT_KEYS = ["name", "provider", "bottle", "model", "skills", "budget", "shutdown"] as const;

export function parseAgent(m: ManifestText, source: SourceRef["source"]): AgentManifest {
  const { name, checker: c, data, body } = parseManifest(m, "agent", AGENT_KEYS);
  if (data.provider === undefined) c.fail([], "the agent has no provider", `add provider: claude (one of ${PROVIDERS.join(", ")})`);
  const agent: AgentManifest = {
    name,
    file: m.file,
    source,
    provider: c.oneOf(data.provider, ["provider"], PROVIDERS),
    skills: data.skills === undefined || data.skills === null ? [] : c.names(data.skills, ["skills"], "skill", false),
    prompt: body.trim(),
  };
  if (data.bottle !== undefined) agent.bottle = c.name(data.bottle, ["bottle"], "bottle");
  if (data.model !== undefined) agent.model = c.string(data.model, ["model"], "model: claude-sonnet-4-5");
  const budget = checkBudget(c, data.budget);
  if (budget) {
    // One key per budget: every token a run of this agent spends is counted under its provider's name.
    for (const p of Object.keys(budget)) {
      if (p !== agent.provider) c.fail(["budget", p], `budget.${p} can never apply: every token a run of this ${agent.provider} agent spends is counted under ${agent.provider}`, `write the limit as budget.${agent.provider}, or remove budget.${p}`, "key");
    }
    agent.budget = budget;
  }
  if (data.shutdown !== undefined) agent.shutdown = c.oneOf(data.shutdown, ["shutdown"], SHUTDOWN_POLICIES);
  return agent;
}
