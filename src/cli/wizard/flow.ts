/**
 * The wizard's steps in order: agent, bottles, label, color, asked-for env values, preflight summary, y/N.
 * Anything the command line already fixed (`bottle run claude --bottle b --label x`) is not asked again.
 * The world comes in through WizardDeps (the catalog, the launcher's resolve and describe), so the order
 * and the skipping rules are one readable function. The launcher resolves the request before the summary
 * and again after the env answers; both start nothing, so a cancel at any point leaves nothing behind.
 */
import { cancel, intro, log, outro } from "@clack/prompts";
import { composeBottles, type Catalog } from "../../manifest/index.ts";
import type { AgentManifest } from "../../manifest/types.ts";
import type { DescribePlan, LaunchRequest, ResolveLaunch } from "../../launch/types.ts";
import { repositoryDefaultProblem, repositoryDefaultRisk } from "../../launch/repo-default.ts";
import { providerFor } from "../../providers/index.ts";
import { WizardCancelled } from "./cancel.ts";
import { askAgent } from "./steps/agent.ts";
import { askBottles } from "./steps/bottles.ts";
import { askEnv } from "./steps/env.ts";
import { askColor, askLabel } from "./steps/identity.ts";
import { askLaunch } from "./steps/preflight.ts";

export interface WizardDeps {
  catalog: () => Catalog;
  resolve: ResolveLaunch;
  describe: DescribePlan;
  hostEnv: Record<string, string | undefined>;
  /** For short paths on screen. */
  cwd: string;
  home: string;
  /** Paint the color options (false under NO_COLOR). */
  colorOn: boolean;
}

async function chooseAgent(partial: Partial<LaunchRequest>, catalog: Catalog, deps: WizardDeps): Promise<AgentManifest> {
  const given = partial.agent ? catalog.agents.get(partial.agent) : undefined;
  if (given) return given;
  if (partial.agent) log.warn(`there is no agent called ${JSON.stringify(partial.agent)}; pick one`);
  const agents = [...catalog.agents.values()].sort((a, b) => a.name.localeCompare(b.name));
  return askAgent(agents, deps.cwd, deps.home);
}

/**
 * The bottles ticked at first: the agent's default, unless a repository-only agent's default reaches beyond
 * its provider's API or hands it env values written in a host bottle (then nothing is ticked, with a
 * warning; ticking it is the person's own choice). A `?` value is fine: the wizard asks for it.
 */
function defaultBottles(catalog: Catalog, agent: AgentManifest): string[] {
  if (!agent.bottle || !catalog.bottles.has(agent.bottle)) return [];
  const composed = composeBottles(catalog, [agent.bottle]);
  const risk = repositoryDefaultRisk(agent, composed, providerFor(agent.provider), { asked: true });
  if (!risk) return [agent.bottle];
  log.warn(`${repositoryDefaultProblem(agent, risk, composed.envOrigin)}, so it is not ticked: tick it yourself if you trust ${agent.file}`);
  return [];
}

export async function wizardFlow(partial: Partial<LaunchRequest>, deps: WizardDeps): Promise<LaunchRequest | null> {
  intro("bottle run");
  try {
    const catalog = deps.catalog();
    for (const w of catalog.warnings) log.warn(w);
    const agent = await chooseAgent(partial, catalog, deps);
    const bottles =
      partial.bottles && partial.bottles.length > 0
        ? partial.bottles
        : await askBottles([...catalog.bottles.values()].sort((a, b) => a.name.localeCompare(b.name)), defaultBottles(catalog, agent), deps.cwd, deps.home);
    const label = partial.label ?? (await askLabel(agent.name));
    const color = partial.color ?? (await askColor(label, deps.colorOn));
    const req: LaunchRequest = { ...partial, agent: agent.name, bottles, label, color, headless: false };
    let plan = await deps.resolve(req);
    if (plan.pendingEnv.length > 0) {
      req.envAnswers = { ...partial.envAnswers, ...(await askEnv(plan.pendingEnv, deps.hostEnv)) };
      plan = await deps.resolve(req);
    }
    if (!(await askLaunch(deps.describe(plan).lines))) throw new WizardCancelled();
    outro(`launching ${plan.label}`);
    return req;
  } catch (e) {
    if (!(e instanceof WizardCancelled)) throw e;
    cancel("cancelled");
    return null;
  }
}
