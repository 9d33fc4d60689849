/**
 * `bottle doctor`: every check a newcomer (or a bug report) needs, in the order a run depends on them, and
 * the verdict: whether a run could start on this host. A failure means it could not: broken settings or
 * manifests, an unreadable CA or ledger, or no backend that could run any agent (the sandbox with no agent
 * CLI on PATH counts as none). Warnings are things that limit some runs (a missing CLI, no docker engine).
 */
import { PROVIDERS } from "../manifest/types.ts";
import { agentCheck, dockerCheck, sandboxCheck } from "./host.ts";
import { caCheck, ledgerCheck, manifestsCheck, settingsCheck } from "./state.ts";
import type { Check, DoctorReport } from "./types.ts";

export interface DoctorInput {
  home: string;
  cwd: string;
  /** The PATH the sandbox would find agent CLIs on. */
  PATH: string;
}

export async function runDoctor(i: DoctorInput): Promise<DoctorReport> {
  const sandbox = await sandboxCheck(i.home);
  const docker = await dockerCheck();
  const agents = await Promise.all(PROVIDERS.map((p) => agentCheck(p, i.PATH)));
  const settings = settingsCheck(i.home);
  const checks: Check[] = [sandbox, docker.check, ...agents.map(({ found: _f, ...c }) => c), settings.check, manifestsCheck(i.home, i.cwd), caCheck(i.home), await ledgerCheck(i.home, settings.settings)];

  // Which agents could run, and where: the sandbox runs the host's CLI; docker runs a built image, or one it
  // can build from a base image on this host.
  const inSandbox = sandbox.status === "ok" ? PROVIDERS.filter((_, n) => agents[n]!.found) : [];
  const inDocker = docker.runnable;
  const runnable = [...new Set([...inSandbox, ...inDocker])];
  const blocked = checks.filter((c) => c.status === "fail");
  if (runnable.length === 0) {
    checks.push({
      name: "runs",
      status: "fail",
      detail: "no backend here can run any agent",
      fix: sandbox.status === "ok" ? `install an agent CLI (${agents.map((a) => a.fix).filter(Boolean)[0] ?? "npm install -g …"})` : (sandbox.fix ?? docker.check.fix ?? "install bubblewrap or docker"),
    });
  } else if (blocked.length > 0) {
    checks.push({ name: "runs", status: "fail", detail: `a run cannot start until ${blocked.map((c) => c.name).join(", ")} ${blocked.length === 1 ? "is" : "are"} fixed`, fix: "see the failed checks above" });
  } else {
    checks.push({ name: "runs", status: "ok", detail: `can start: ${runnable.map((p) => `${p} (${[inSandbox.includes(p) ? "sandbox" : "", inDocker.includes(p) ? "docker" : ""].filter(Boolean).join(", ")})`).join(", ")}` });
  }
  return { ok: !checks.some((c) => c.status === "fail"), checks };
}
