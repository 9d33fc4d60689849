/**
 * Step 1: which agent. A filtered select: typing narrows the list by agent name or provider, and every
 * row shows the name, the provider and the file the agent was read from (so a cwd agent that shadows a
 * home one is visible before it runs).
 */
import { autocomplete } from "@clack/prompts";
import type { AgentManifest } from "../../../manifest/types.ts";
import { answered } from "../cancel.ts";
import { sourceText } from "../source-text.ts";

export function agentRows(agents: readonly AgentManifest[], cwd: string, home: string): { value: string; label: string }[] {
  const width = Math.max(...agents.map((a) => a.name.length));
  const pwidth = Math.max(...agents.map((a) => a.provider.length));
  return agents.map((a) => ({
    value: a.name,
    label: `${a.name.padEnd(width)}  ${a.provider.padEnd(pwidth)}  ${sourceText(a, cwd, home)}`,
  }));
}

export async function askAgent(agents: readonly AgentManifest[], cwd: string, home: string): Promise<AgentManifest> {
  const byName = new Map(agents.map((a) => [a.name, a]));
  const name = answered(
    await autocomplete<string>({
      message: "Which agent?",
      options: agentRows(agents, cwd, home),
      placeholder: "type to filter by name or provider",
      maxItems: 10,
      filter: (search, option) => {
        const a = byName.get(option.value)!;
        const s = search.toLowerCase();
        return a.name.includes(s) || a.provider.includes(s);
      },
    }),
  );
  return byName.get(name)!;
}
