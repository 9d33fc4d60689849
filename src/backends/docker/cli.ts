/**
 * The docker CLI as the docker backend's only way to talk to the engine: every call is an argv array,
 * bounded in time, with output captured. The client's environment is the host's minus proxy variables
 * (the engine is local; a proxy would only get in the way) so DOCKER_HOST and friends still apply.
 * A call that runs out of time is killed and says so (`timedOut`): a hung engine is never mistaken for an
 * answer such as "no such container".
 */
import { BackendError } from "../../errors.ts";

export interface DockerResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The call was killed at its time limit. */
  timedOut: boolean;
}

export interface DockerCall {
  input?: Uint8Array | string;
  timeoutMs?: number;
  docker?: string;
}

export function dockerClientEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/_proxy$/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

function spawnDocker(args: string[], opts: DockerCall) {
  return Bun.spawn([opts.docker ?? "docker", ...args], {
    env: dockerClientEnv(),
    stdin: opts.input !== undefined ? (typeof opts.input === "string" ? new TextEncoder().encode(opts.input) : opts.input) : "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
}

export async function docker(args: string[], opts: DockerCall = {}): Promise<DockerResult> {
  return dockerStream(args, opts);
}

/** Reads a stream line by line, calling `onLine` for each, and returns all of it. */
async function readLines(stream: ReadableStream<Uint8Array>, onLine?: (line: string) => void): Promise<string> {
  if (!onLine) return new Response(stream).text();
  const decoder = new TextDecoder();
  let all = "";
  let pending = "";
  for await (const chunk of stream) {
    const text = decoder.decode(chunk, { stream: true });
    all += text;
    pending += text;
    const lines = pending.split(/\r?\n/);
    pending = lines.pop() ?? "";
    for (const l of lines) onLine(l);
  }
  if (pending !== "") onLine(pending);
  return all;
}

/** Like `docker`, with each line of output (stdout and stderr) handed to `onLine` as it arrives. */
export async function dockerStream(args: string[], opts: DockerCall & { onLine?: (line: string) => void } = {}): Promise<DockerResult> {
  const proc = spawnDocker(args, opts);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, opts.timeoutMs ?? 120_000);
  try {
    const [stdout, stderr, code] = await Promise.all([readLines(proc.stdout, opts.onLine), readLines(proc.stderr, opts.onLine), proc.exited]);
    return { code, stdout, stderr, timedOut };
  } finally {
    clearTimeout(timer);
  }
}

/** What went wrong with a docker call, in words: its stderr, or that it timed out. */
export function dockerFailure(r: DockerResult, timeoutMs?: number): string {
  if (r.timedOut) return `docker did not answer within ${Math.round((timeoutMs ?? 120_000) / 1000)} s (the engine may be hung)`;
  return r.stderr.trim() || `exit ${r.code}`;
}

/** Runs docker and throws a BackendError carrying its stderr (or its timeout) when it fails. */
export async function dockerOk(args: string[], what: string, opts: DockerCall = {}): Promise<string> {
  const r = await docker(args, opts);
  if (r.code !== 0) {
    throw new BackendError(`docker could not ${what}: ${dockerFailure(r, opts.timeoutMs)}`, {
      fix: r.timedOut ? "check the docker engine (`docker info`; restart dockerd if it hangs)" : "see docker's message above; `docker info` shows the engine's state",
    });
  }
  return r.stdout;
}

/** Whether an engine answers, and why not. */
export async function engineStatus(bin = "docker"): Promise<{ ok: true; version: string } | { ok: false; reason: string }> {
  if (!Bun.which(bin)) return { ok: false, reason: "the docker CLI is not installed" };
  const r = await docker(["info", "--format", "{{.ServerVersion}}"], { timeoutMs: 15_000, docker: bin });
  if (r.code === 0 && r.stdout.trim() !== "") return { ok: true, version: r.stdout.trim() };
  return { ok: false, reason: r.timedOut ? "docker info did not answer within 15 s" : (r.stderr.trim().split("\n").pop() ?? "").trim() || `docker info exited ${r.code}` };
}
