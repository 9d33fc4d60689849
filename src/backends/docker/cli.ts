/**
 * The docker CLI as the docker backend's only way to talk to the engine: every call is an argv array,
 * bounded in time, with output captured. The client's environment is the host's minus proxy variables
 * (the engine is local; a proxy would only get in the way) so DOCKER_HOST and friends still apply.
 */
import { BackendError } from "../../errors.ts";

export interface DockerResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function dockerClientEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/_proxy$/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

export async function docker(args: string[], opts: { input?: Uint8Array | string; timeoutMs?: number; docker?: string } = {}): Promise<DockerResult> {
  const proc = Bun.spawn([opts.docker ?? "docker", ...args], {
    env: dockerClientEnv(),
    stdin: opts.input !== undefined ? (typeof opts.input === "string" ? new TextEncoder().encode(opts.input) : opts.input) : "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
  try {
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs docker and throws a BackendError carrying its stderr when it fails. */
export async function dockerOk(args: string[], what: string, opts: { input?: Uint8Array | string; timeoutMs?: number; docker?: string } = {}): Promise<string> {
  const r = await docker(args, opts);
  if (r.code !== 0) {
    throw new BackendError(`docker could not ${what}: ${r.stderr.trim() || `exit ${r.code}`}`, { fix: "check that the docker engine runs (`docker info`)" });
  }
  return r.stdout;
}

/** Whether an engine answers, and why not. */
export async function engineStatus(bin = "docker"): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (!Bun.which(bin)) return { ok: false, reason: "the docker CLI is not installed" };
  const r = await docker(["info", "--format", "{{.ServerVersion}}"], { timeoutMs: 15_000, docker: bin });
  if (r.code === 0 && r.stdout.trim() !== "") return { ok: true };
  return { ok: false, reason: (r.stderr.trim().split("\n").pop() ?? "").trim() || `docker info exited ${r.code}` };
}
