/**
 * Puts an agent's world into its bottle before launch: the provider's first-run files, the agent's skills
 * (copied from `$BOTTLE_HOME/skills/<name>` into the provider's skills directory) and the agent's prompt
 * body as the provider's global instructions file. Everything goes through the backend's copyIn, so the
 * same code provisions sandbox and docker bottles, and no shell is involved. Every skill name is checked
 * before the first copy, so a bad name leaves the bottle untouched.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Backend, BottleHandle } from "../backends/types.ts";
import { INSIDE } from "../backends/types.ts";
import { checkSkillNames, skillSource } from "./skills.ts";
import type { Provider } from "./types.ts";

export interface AgentToProvision {
  skills: readonly string[];
  /** The agent's markdown body. */
  prompt: string;
  /** The agent file, for error messages. */
  file?: string;
}

export interface ProvisionReport {
  skills: string[];
  files: string[];
}

export async function provisionAgent(backend: Backend, handle: BottleHandle, provider: Provider, agent: AgentToProvision, home?: string): Promise<ProvisionReport> {
  checkSkillNames(agent.skills, agent.file);
  const sources = agent.skills.map((s) => ({ name: s, dir: skillSource(s, home, agent.file) }));
  const files: Record<string, string> = { ...provider.homeFiles() };
  if (agent.prompt.trim() !== "") files[provider.instructionsFile] = agent.prompt.endsWith("\n") ? agent.prompt : `${agent.prompt}\n`;
  const stage = mkdtempSync(join(tmpdir(), "bottle-stage-"));
  try {
    for (const [rel, text] of Object.entries(files)) {
      const p = join(stage, rel);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, text);
      await backend.copyIn(handle, p, `${INSIDE.home}/${rel}`);
    }
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  for (const s of sources) await backend.copyIn(handle, s.dir, `${INSIDE.home}/${provider.skillsDir}/${s.name}`);
  return { skills: sources.map((s) => s.name), files: Object.keys(files) };
}
