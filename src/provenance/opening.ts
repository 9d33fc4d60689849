/**
 * The opening of a record: what is known when a run starts, taken from its resolved plan — the agent (its
 * manifest's SHA-256 and its CLI's version), the prompt (its hash always, its text unless the user opted
 * out), the composed bottles (a hash of the composed policy, the routes as the run uses them, the names of
 * the secrets it could be given), the budgets that govern and the workspace's git state before the agent
 * touches it. It is written beside the run's state at launch, so a run whose process dies can still get
 * its record at the next start.
 */
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { hostName } from "../host-name.ts";
import { dirname, join } from "node:path";
import type { LaunchPlan } from "../launch/types.ts";
import { EMBEDDED_AGENTS } from "../manifest/embedded.ts";
import type { AgentManifest, Route } from "../manifest/types.ts";
import { hostBinary } from "../providers/host-binary.ts";
import { providerFor } from "../providers/index.ts";
import { canonicalHash, sha256Hex } from "./canonical.ts";
import { gitLocation, gitState } from "./git-state.ts";
import type { AgentFacts, RecordOpening } from "./record.ts";

function manifestText(a: AgentManifest): string {
  if (a.source === "embedded") return EMBEDDED_AGENTS.find((m) => m.file === a.file)?.text ?? "";
  return readFileSync(a.file, "utf8");
}

/** The version in the package.json of the npm package that ships `binary` (the host's install). */
function installedVersion(binaryPath: string, pkg: string): string | null {
  let dir = dirname(realpathSync(binaryPath));
  for (let i = 0; i < 8; i++) {
    const p = join(dir, "package.json");
    if (existsSync(p)) {
      try {
        const j = JSON.parse(readFileSync(p, "utf8")) as { name?: string; version?: string };
        if (j.name === pkg && typeof j.version === "string") return j.version;
      } catch {
        /* keep looking */
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

/** The agent CLI's version: the host's install (sandbox), or the version bottle's image pins (docker). */
function cliVersion(plan: LaunchPlan, hostPath: string | undefined): string | null {
  const p = providerFor(plan.provider);
  if (plan.backend.name === "docker") return p.npm.version;
  try {
    return installedVersion(hostBinary(p, hostPath ?? process.env.PATH ?? "").path, p.npm.package);
  } catch {
    return null;
  }
}

/** The routes as the run uses them (with --simulate, `effective` has the simulator's URL in). */
export function routeFacts(routes: readonly Route[], simulatorUrl: string | undefined): RecordOpening["bottles"]["routes"] {
  return routes.map((r) => ({
    host: r.host,
    mitm: r.mitm !== false,
    upstream: r.upstream ? (simulatorUrl && r.upstream === simulatorUrl ? "simulator" : r.upstream) : null,
    secret: r.auth?.env ?? null,
    ...(r.unmetered && r.unmetered.length > 0 ? { unmetered: [...r.unmetered] } : {}),
  }));
}

export interface OpeningInput {
  plan: LaunchPlan;
  /** The routes the run's listener really has (the simulator's URL in them, when simulated). */
  routes: readonly Route[];
  simulatorUrl?: string;
  /** Env prompt variables answered at launch (names only). */
  answeredEnv: readonly string[];
  hostPath?: string;
}

/** A launched run's opening always has its agent and its workspace. */
export type LaunchOpening = RecordOpening & { agent: AgentFacts; workspaceStart: NonNullable<RecordOpening["workspaceStart"]> };

export function recordOpening(i: OpeningInput): LaunchOpening {
  const { plan } = i;
  const p = providerFor(plan.provider);
  const includePrompt = plan.request.promptInReport !== false;
  const routes = routeFacts(i.routes, i.simulatorUrl);
  const b = plan.bottle;
  const policy = { requested: b.requested, chain: b.chain, routes, env: b.env, log: b.log, budgetLayers: b.budgetLayers, shutdown: b.shutdown ?? null, preflight: b.preflight ?? null, backend: b.backend };
  return {
    run: { id: plan.runId, label: plan.label, host: hostName(), backend: plan.backend.name, headless: plan.headless, simulated: plan.simulated, resumeOf: plan.resumeOf ?? null },
    agent: {
      name: plan.agent.name,
      provider: plan.provider,
      source: plan.agent.source,
      file: plan.agent.file,
      manifestSha256: sha256Hex(manifestText(plan.agent)),
      cli: { binary: p.binary, package: p.npm.package, version: cliVersion(plan, i.hostPath) },
    },
    prompt: {
      sha256: plan.prompt !== undefined ? sha256Hex(plan.prompt) : null,
      text: includePrompt ? (plan.prompt ?? null) : null,
      included: includePrompt && plan.prompt !== undefined,
    },
    bottles: {
      requested: b.requested,
      chain: b.chain,
      policySha256: canonicalHash(policy),
      routes,
      secrets: [
        ...routes.filter((r) => r.secret).map((r) => ({ name: r.secret!, via: "route-auth" as const, host: r.host })),
        ...[...i.answeredEnv].sort().map((name) => ({ name, via: "env-prompt" as const })),
      ],
      egressLog: b.log,
    },
    budgets: {
      governing: plan.budgets.map((x) => ({ provider: x.provider, tokens: x.tokens, per: x.per ?? null, scope: x.scope, name: x.name ?? null, file: x.file ?? null })),
      shutdown: { policy: plan.shutdown.value, from: plan.shutdown.from, file: plan.shutdown.file ?? null },
      preflight: { mode: plan.preflight.value, from: plan.preflight.from, file: plan.preflight.file ?? null },
    },
    workspaceStart: { path: plan.cwd, mode: plan.workspace, git: gitState(plan.cwd), gitDirs: gitLocation(plan.cwd) },
  };
}
