/**
 * From what the user asked for to everything a launch will do, without starting anything: the agent (with
 * a did-you-mean), its bottles (the agent's default, or the ones asked for, in order), a label no live
 * bottle has, the governing budgets and cutoff policy with their sources, the backend, the egress routes,
 * and the env values still to be asked. Every mistake a user can make fails here, with a typed error that
 * shows the invocation that works, before a ledger row, a proxy or a bottle exists.
 */
import { listActive } from "../backends/listing.ts";
import { pendingPrompts, promptMessage, resolveEnvPrompts } from "../backends/env-prompts.ts";
import { DockerBackend } from "../backends/docker/index.ts";
import { DEFAULT_PIDS_LIMIT } from "../backends/process-limit.ts";
import { SandboxBackend } from "../backends/sandbox/index.ts";
import { describePidsLimit } from "../backends/sandbox/pids-limit.ts";
import { probeBackend, selectBackend, usableBackend } from "../backends/select.ts";
import { log } from "../log.ts";
import { budgetsFor } from "../enforce/admission.ts";
import { launchBudget } from "../enforce/plan.ts";
import { NotFoundError, UsageError } from "../errors.ts";
import { agentOrBroken, composeBottles, loadCatalog, loadSettings, type Catalog } from "../manifest/index.ts";
import type { AgentManifest, BottleManifest, ComposedBottle } from "../manifest/types.ts";
import { bottleHome } from "../paths.ts";
import { hostBinary } from "../providers/host-binary.ts";
import { providerFor, providerRoutes, type Provider } from "../providers/index.ts";
import { skillSource } from "../providers/skills.ts";
import { validateRoutes } from "../proxy/validate-routes.ts";
import { didYouMean } from "../util/did-you-mean.ts";
import { newRunId } from "./ids.ts";
import { repositoryDefaultFix, repositoryDefaultProblem, repositoryDefaultRisk } from "./repo-default.ts";
import { uniqueLabel } from "./label.ts";
import { runRoutes } from "./routes.ts";
import { routesToSimulator } from "./simulated.ts";
import { type LaunchPlan, type LaunchRequest, type PendingEnvPrompt, type ResolveDeps } from "./types.ts";
import { checkRequest, invocation } from "./validate.ts";

function findAgent(catalog: Catalog, name: string): AgentManifest {
  const a = agentOrBroken(catalog, name);
  if (a) return a;
  const names = [...catalog.agents.keys()].sort();
  const guess = didYouMean(name, names);
  throw new NotFoundError(`unknown agent ${JSON.stringify(name)}`, {
    key: "agent",
    fix: `${guess ? `did you mean ${guess}? ` : ""}agents: ${names.join(", ")} — e.g. ${invocation(guess ?? names[0] ?? "claude")}`,
  });
}

/** The file that set the agent's bottle: the host's when a repository's file shadows it; none when built in. */
function agentFile(agent: AgentManifest): string | undefined {
  const file = agent.shadows?.file ?? agent.file;
  return file.startsWith("embedded:") ? undefined : file;
}

function findBottles(catalog: Catalog, req: LaunchRequest, agent: AgentManifest): BottleManifest[] {
  const names = req.bottles && req.bottles.length > 0 ? req.bottles : agent.bottle ? [agent.bottle] : [];
  const known = [...catalog.bottles.keys()].sort();
  if (names.length === 0) {
    throw new UsageError(`agent ${agent.name} has no default bottle and no --bottle was given`, {
      key: "--bottle",
      ...(agentFile(agent) ? { file: agentFile(agent) } : {}),
      fix: `${invocation(agent.name, known[0] ?? "NAME")} (bottles: ${known.join(", ") || "none yet"}), or add \`bottle: NAME\` to the agent`,
    });
  }
  return names.map((n) => {
    const b = catalog.bottles.get(n);
    if (b) return b;
    const guess = didYouMean(n, known);
    const fromAgent = !(req.bottles && req.bottles.length > 0);
    throw new NotFoundError(`unknown bottle ${JSON.stringify(n)}${fromAgent ? ` (the default bottle of agent ${agent.name})` : ""}`, {
      key: fromAgent ? "bottle" : "--bottle",
      ...(fromAgent && agentFile(agent) ? { file: agentFile(agent) } : {}),
      fix: `${guess ? `did you mean ${guess}? ` : ""}bottles: ${known.join(", ") || "none"} — e.g. ${invocation(agent.name, guess ?? known[0] ?? "NAME")}`,
    });
  });
}

/**
 * A repository-only agent's default bottle may not reach beyond its provider's API, nor hand it the host's
 * env values (repo-default.ts); headless, nobody is asked for a `?` value, so the host's is taken unasked.
 */
function checkRepositoryDefault(req: LaunchRequest, agent: AgentManifest, composed: ComposedBottle, provider: Provider): void {
  if (req.bottles && req.bottles.length > 0) return;
  const risk = repositoryDefaultRisk(agent, composed, provider, { asked: !req.headless });
  if (!risk) return;
  throw new UsageError(repositoryDefaultProblem(agent, risk, composed.envOrigin), {
    key: "bottle",
    file: agent.file,
    fix: repositoryDefaultFix(agent, risk, provider, invocation(agent.name, agent.bottle ?? "NAME")),
  });
}

async function defaultActiveLabels(home: string): Promise<string[]> {
  return (await listActive(home)).map((b) => b.label);
}

export async function resolveLaunch(req: LaunchRequest, deps: ResolveDeps = {}): Promise<LaunchPlan> {
  checkRequest(req);
  const home = deps.home ?? bottleHome();
  const env = deps.env ?? process.env;
  const cwd = req.cwd ?? process.cwd();
  const settings = loadSettings(home);
  const catalog = loadCatalog({ home, cwd });
  const agent = findAgent(catalog, req.agent);
  // A skill the agent names must exist now, not when provisioning fails after the run is registered.
  for (const skill of agent.skills) skillSource(skill, home, agent.file);
  const manifests = findBottles(catalog, req, agent);
  const bottle = composeBottles(
    catalog,
    manifests.map((b) => b.name),
  );
  const provider = providerFor(agent.provider);
  checkRepositoryDefault(req, agent, bottle, provider);
  const routes = runRoutes(bottle.routes, providerRoutes(provider));
  // A secret a route needs must be on the host now, not when the first request fails inside the bottle.
  validateRoutes(req.simulate ? routesToSimulator(routes, "http://127.0.0.1") : routes, env);

  const answers = { ...env, ...(req.envAnswers ?? {}) };
  const pendingEnv: PendingEnvPrompt[] = pendingPrompts(bottle.env).map((name) => ({
    name,
    message: promptMessage(name, bottle.env[name]!),
    ...(bottle.envOrigin[name] ? { file: bottle.envOrigin[name] } : {}),
    hostHasValue: (answers[name] ?? "") !== "",
  }));
  // Headless: nobody can answer, so a missing value fails now (naming the variable and the bottle file).
  if (req.headless) await resolveEnvPrompts(bottle.env, { interactive: false, hostEnv: answers, origin: bottle.envOrigin });

  const runId = deps.runId ?? newRunId(agent.name);
  const budget = launchBudget({
    runId,
    settings,
    agent,
    composed: bottle,
    bottles: manifests,
    ...(req.budget !== undefined ? { budgetFlag: req.budget } : {}),
    ...(req.shutdown ? { shutdownFlag: req.shutdown } : {}),
  });
  const probe = deps.probe ?? probeBackend;
  const selected = await selectBackend(
    {
      ...(req.backend ? { flag: req.backend } : {}),
      ...(env.BOTTLE_BACKEND ? { env: env.BOTTLE_BACKEND } : {}),
      ...(bottle.backend.prefer ? { prefer: { name: bottle.backend.prefer } } : {}),
      ...(settings.backend ? { settings: { name: settings.backend, file: settings.file } } : {}),
    },
    probe,
  );
  // Docker needs the agent's image too: built now (with progress), before the run is registered; a dry run
  // only checks it could be. An automatic docker choice whose image cannot be had falls back to the sandbox.
  const prepare = deps.prepareDocker ?? ((build: boolean) => new DockerBackend({ home }).prepareImage(agent.provider, { ...(bottle.backend.image ? { image: bottle.backend.image } : {}), build }).then(() => undefined));
  const backend = await usableBackend(selected, prepare, { build: !req.dryRun, probe });
  if (backend.note) log.info(`bottle: ${backend.note}`);
  // The sandbox runs the host's install of the CLI: a missing one fails here, not after the run is registered.
  if (backend.name === "sandbox") hostBinary(provider, env.PATH ?? "");
  const requestedLabel = req.label ?? agent.name;
  const labelsInUse = await (deps.activeLabels ?? (() => defaultActiveLabels(home)))();
  const label = uniqueLabel(requestedLabel, labelsInUse);
  return {
    request: req,
    runId,
    agent,
    provider: agent.provider,
    bottle,
    routes,
    // A run's usage is all counted under its own provider: only those budgets can ever apply to it.
    budgets: budgetsFor(budget.plan, agent.provider),
    budgetLayers: budget.layers,
    shutdown: budget.policy,
    preflight: budget.preflight,
    backend,
    workspace: req.workspace ?? bottle.backend.workspace ?? "bind",
    processes: processLimit(backend.name, bottle.backend.pids ?? DEFAULT_PIDS_LIMIT, home),
    cwd,
    label,
    requestedLabel,
    labelsInUse,
    ...(req.color ? { color: req.color } : {}),
    headless: req.headless,
    ...(req.prompt !== undefined ? { prompt: req.prompt } : {}),
    simulated: !!req.simulate,
    env: bottle.env,
    pendingEnv,
    warnings: catalog.warnings,
    home,
    settings,
    bottleManifests: manifests,
    budgetPlan: budget.plan,
  };
}

/** What will limit the bottle's processes (a sandbox with no way to enforce it fails here, with the cause). */
function processLimit(backend: string, limit: number, home: string): LaunchPlan["processes"] {
  if (backend === "sandbox") return { limit, how: describePidsLimit(new SandboxBackend({ home }).pidsLimit(limit)) };
  return { limit, how: `${limit} processes per container (docker --pids-limit)` };
}
