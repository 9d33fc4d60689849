/**
 * What was asked for at launch, kept beside the run's state (`runs/<id>/launch.json`) so `bottle resume`
 * can rebuild the same run: the same agent, bottles, simulated or real provider, workspace and flags.
 * Env prompt answers are never written: they may be secrets, and a resumed run asks (or reads the host
 * environment) again.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runDir } from "../paths.ts";
import type { LaunchPlan, LaunchRequest } from "./types.ts";

const FILE = "launch.json";

export function writeRequestFile(plan: LaunchPlan): void {
  const { envAnswers: _secret, dryRun: _dry, ...req } = plan.request;
  const saved: LaunchRequest = { ...req, cwd: plan.cwd, workspace: plan.workspace, backend: plan.backend.name, label: plan.label };
  const dir = runDir(plan.runId, plan.home);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, FILE), `${JSON.stringify({ version: 1, request: saved }, null, 2)}\n`, { mode: 0o600 });
}

export function readRequestFile(runId: string, home: string): LaunchRequest | undefined {
  const p = join(runDir(runId, home), FILE);
  if (!existsSync(p)) return undefined;
  try {
    const v = JSON.parse(readFileSync(p, "utf8")) as { version?: number; request?: LaunchRequest };
    return v.version === 1 && v.request && typeof v.request.agent === "string" ? v.request : undefined;
  } catch {
    return undefined;
  }
}
