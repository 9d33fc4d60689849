/**
 * From "run this agent in these bottles" to a backend plan: the provider's env (placeholder keys,
 * telemetry off), its CA trust pointed at the CA's inside path, the composed bottle env on top (the user's
 * file wins), and for the sandbox the host install of the CLI made visible. This is the one place that
 * joins providers and backends, so launch code cannot forget the CA or the binary's directory.
 */
import { INSIDE, type BottlePlan, type WorkspaceMode } from "../backends/types.ts";
import type { BackendName, ProviderName } from "../manifest/types.ts";
import { hostBinary } from "./host-binary.ts";
import { providerFor } from "./index.ts";

export interface PlanInput {
  runId: string;
  label: string;
  agent: string;
  provider: ProviderName;
  backend: BackendName;
  cwd: string;
  workspace?: WorkspaceMode;
  /** From the proxy's openRun: the run's unix socket and the CA certificate. */
  proxy: { socketPath: string; caCertPath: string };
  /** The composed bottles' env, with prompts already resolved. */
  env?: Record<string, string>;
  /** Docker: an image instead of the provider's. */
  image?: string;
  /** Host PATH to find the CLI in (sandbox); default $PATH. */
  hostPath?: string;
  /** The bottle's process limit, when a bottle sets one. */
  pidsLimit?: number;
}

export function buildPlan(i: PlanInput): BottlePlan {
  const p = providerFor(i.provider);
  const env: Record<string, string> = { ...p.env, ...p.caEnv(INSIDE.caCert), ...(i.env ?? {}) };
  const plan: BottlePlan = {
    runId: i.runId,
    label: i.label,
    agent: i.agent,
    provider: i.provider,
    cwd: i.cwd,
    workspace: i.workspace ?? "bind",
    proxySocket: i.proxy.socketPath,
    caCertPath: i.proxy.caCertPath,
    env,
    ...(i.image ? { image: i.image } : {}),
    ...(i.pidsLimit ? { pidsLimit: i.pidsLimit } : {}),
  };
  if (i.backend === "sandbox") {
    const PATH = i.hostPath ?? process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin";
    const bin = hostBinary(p, PATH);
    plan.expose = bin.expose;
    const entries = PATH.split(":");
    if (!entries.includes(bin.binDir)) env.PATH = [bin.binDir, ...entries].join(":");
    else if (i.hostPath) env.PATH = i.hostPath;
  }
  return plan;
}
