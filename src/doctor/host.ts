/**
 * The host half of `bottle doctor`: can a bottle run here at all? Each backend is asked the same way a
 * launch asks it (the sandbox tries a real bwrap namespace, docker asks the engine and looks for the agent
 * images), and each agent CLI the sandbox would run is found on PATH and asked its version, which is
 * compared with the version bottle pins.
 */
import { engineStatus } from "../backends/docker/cli.ts";
import { DEFAULT_NODE_IMAGE, imageExists, imageTag, providerDockerfile } from "../backends/docker/images.ts";
import { SandboxBackend } from "../backends/sandbox/index.ts";
import { describePidsLimit } from "../backends/sandbox/pids-limit.ts";
import { DEFAULT_PIDS_LIMIT } from "../backends/process-limit.ts";
import { PROVIDERS, type ProviderName } from "../manifest/types.ts";
import { PROVIDER_TABLE } from "../providers/index.ts";
import type { Check } from "./types.ts";

function firstVersion(text: string): string | undefined {
  return /\d+\.\d+\.\d+/.exec(text)?.[0];
}

export async function sandboxCheck(home: string): Promise<Check> {
  const backend = new SandboxBackend({ home });
  const a = await backend.available();
  if (!a.ok) return { name: "backend sandbox", status: "warn", detail: a.reason, fix: a.fix };
  const v = Bun.spawnSync(["bwrap", "--version"], { env: process.env, stdout: "pipe", stderr: "pipe" }).stdout.toString().trim();
  return { name: "backend sandbox", status: "ok", detail: `${v || "bubblewrap"}; it creates user and network namespaces here; process limit: ${describePidsLimit(backend.pidsLimit())}` };
}

/** The docker engine, and which agent images it holds (or could build from a local base image). */
export interface DockerFindings {
  check: Check;
  /** Agents whose image is built, or can be built from a base image on this host. */
  runnable: ProviderName[];
}

export async function dockerCheck(): Promise<DockerFindings> {
  const s = await engineStatus();
  if (!s.ok) {
    return { check: { name: "backend docker", status: "warn", detail: `no docker engine answers (${s.reason})`, fix: "install docker (apt-get install docker.io) and start dockerd, or use the sandbox backend" }, runnable: [] };
  }
  try {
    const images: Partial<Record<ProviderName, boolean>> = {};
    for (const p of PROVIDERS) images[p] = await imageExists(imageTag(`agent-${p}`, providerDockerfile(p)));
    const built = PROVIDERS.filter((p) => images[p]);
    const base = await imageExists(DEFAULT_NODE_IMAGE);
    const have = built.length > 0 ? `agent images: ${built.join(", ")}` : "no agent image built yet";
    if (built.length === PROVIDERS.length || base) {
      return { check: { name: "backend docker", status: "ok", detail: `engine ${s.version} answers; process limit: ${DEFAULT_PIDS_LIMIT} per container (--pids-limit); ${have}${base && built.length < PROVIDERS.length ? `; the rest build from ${DEFAULT_NODE_IMAGE} on first use` : ""}` }, runnable: [...PROVIDERS] };
    }
    return {
      check: {
        name: "backend docker",
        status: "warn",
        detail: `engine ${s.version} answers; ${have}, and the base image ${DEFAULT_NODE_IMAGE} is not on this host (a build needs a registry; without one, automatic choice uses the sandbox)`,
        fix: `docker pull ${DEFAULT_NODE_IMAGE} (or docker load it from a machine that can), or use the sandbox backend`,
      },
      runnable: built,
    };
  } catch (e) {
    return { check: { name: "backend docker", status: "warn", detail: `engine ${s.version} answers, but ${(e as Error).message}`, fix: "check the engine: docker info" }, runnable: [] };
  }
}

/** One agent CLI on the host PATH (what the sandbox runs), with its version against the pinned one. */
export async function agentCheck(p: ProviderName, PATH: string): Promise<Check & { found: boolean }> {
  const provider = PROVIDER_TABLE[p];
  const name = `agent ${p}`;
  const pinned = provider.npm.version;
  const install = `npm install -g ${provider.npm.package}@${pinned}`;
  const found = Bun.which(provider.binary, { PATH });
  if (!found) return { name, status: "warn", found: false, detail: `${provider.binary} is not on PATH (the sandbox backend runs the host's CLI)`, fix: `${install}, or use the docker backend` };
  const proc = Bun.spawn([found, "--version"], { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, PATH } });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]).finally(() => clearTimeout(timer));
  const version = firstVersion(out) ?? firstVersion(err);
  if (code !== 0 || !version) {
    return { name, status: "warn", found: false, detail: `${found} --version failed (${(err || out).trim().split("\n").pop() || `exit ${code}`})`, fix: `reinstall it: ${install}` };
  }
  if (version !== pinned) return { name, status: "warn", found: true, detail: `${found} is ${version}; bottle is tested with ${pinned}`, fix: install };
  return { name, status: "ok", found: true, detail: `${found} ${version}` };
}
